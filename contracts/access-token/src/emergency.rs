//! Break-glass: the rules that keep emergency access for emergencies.
//!
//! A verified doctor opens a fixed window on a patient with a reason code. Keys
//! reach it only through the patient's emergency custodians (PatientRegistry),
//! whose agents re-wrap them while the window is open (RecordRegistry checks it).
//! Against a stolen or rogue doctor key:
//! - a patient with no custodian cannot be opened at all;
//! - the patient's close bars that doctor from re-opening on that patient for
//!   [`EMERGENCY_BAR_SECS`], unless the patient lifts the bar earlier;
//! - a doctor opens at most `emergencyDailyLimit` windows across all patients per
//!   rolling day (the owner sets it; default 3, at most 16);
//! - a pause stops new windows.
//!
//! The public functions live on the contract (`lib.rs`); this module holds the
//! storage, the events, the errors and the counting.

use alloc::{vec, vec::Vec};

use alloy_primitives::{
    aliases::{U64, U8},
    Address,
};
use alloy_sol_types::sol;
use careledger_common::{
    EMERGENCY_BAR_SECS, EMERGENCY_LIMIT_PERIOD_SECS, MAX_EMERGENCY_DAILY_LIMIT,
};
use stylus_sdk::prelude::*;
use stylus_sdk::storage::{StorageMap, StorageU64, StorageU8, StorageVec};

sol! {
    /// Break-glass: a verified doctor opened emergency access to a patient until
    /// `expiresAt`, for the stated `reason` (see `careledger_common::emergency_reason`).
    event EmergencyAccess(address indexed patient, address indexed doctor, uint64 expiresAt, uint8 reason);
    /// The patient closed a doctor's emergency access; the doctor may not re-open
    /// on this patient before `barredUntil` unless the patient lifts the bar.
    event EmergencyAccessClosed(address indexed patient, address indexed doctor, uint64 barredUntil);
    /// The patient lifted a doctor's bar early.
    event EmergencyBarLifted(address indexed patient, address indexed doctor);
    /// The owner set how many windows a doctor may open per rolling day.
    event EmergencyLimitSet(uint8 limit);

    /// The doctor has no open emergency access to the patient.
    #[derive(Debug)]
    error NoEmergencyAccess(address patient, address doctor);
    /// The reason code is 0 or unknown.
    #[derive(Debug)]
    error InvalidReason(uint8 reason);
    /// The patient named no emergency custodian, so break-glass is off for it.
    #[derive(Debug)]
    error NoEmergencyCustodian(address patient);
    /// The patient closed this doctor's earlier window; re-opening is barred until then.
    #[derive(Debug)]
    error EmergencyBarred(address patient, address doctor, uint64 barredUntil);
    /// The doctor opened `limit` windows in the last 24 hours already.
    #[derive(Debug)]
    error EmergencyLimitReached(address doctor, uint8 limit);
    /// The doctor is not barred on this patient.
    #[derive(Debug)]
    error NotBarred(address patient, address doctor);
    /// The daily limit is above 16.
    #[derive(Debug)]
    error InvalidEmergencyLimit(uint8 limit);
}

/// Windows, bars and each doctor's recent openings.
#[storage]
pub struct Emergency {
    /// patient => doctor => end of the window (exclusive), or 0.
    windows: StorageMap<Address, StorageMap<Address, StorageU64>>,
    /// patient => doctor => end of the bar (exclusive), or 0.
    bars: StorageMap<Address, StorageMap<Address, StorageU64>>,
    /// doctor => the times of its openings within the last rolling day (at most
    /// [`MAX_EMERGENCY_DAILY_LIMIT`]; older ones are dropped at each opening).
    opens: StorageMap<Address, StorageVec<StorageU64>>,
    daily_limit: StorageU8,
}

impl Emergency {
    /// End of `doctor`'s window on `patient` (exclusive), 0 if none.
    pub fn window(&self, patient: Address, doctor: Address) -> u64 {
        self.windows.get(patient).get(doctor).to()
    }

    /// End of `doctor`'s bar on `patient` (exclusive), 0 if none.
    pub fn bar(&self, patient: Address, doctor: Address) -> u64 {
        self.bars.get(patient).get(doctor).to()
    }

    /// How many windows a doctor may open per rolling day.
    pub fn daily_limit(&self) -> u8 {
        self.daily_limit.get().to()
    }

    /// Sets the daily limit; above [`MAX_EMERGENCY_DAILY_LIMIT`] it is refused.
    pub fn set_daily_limit(&mut self, limit: u8) -> Result<(), InvalidEmergencyLimit> {
        if limit > MAX_EMERGENCY_DAILY_LIMIT {
            return Err(InvalidEmergencyLimit { limit });
        }
        self.daily_limit.set(U8::from(limit));
        Ok(())
    }

    /// The doctor's openings within the rolling day that ends at `now`.
    pub fn recent_opens(&self, doctor: Address, now: u64) -> Vec<u64> {
        let opens = self.opens.get(doctor);
        (0..opens.len())
            .filter_map(|i| opens.get(i))
            .map(|t| t.to::<u64>())
            .filter(|t| t.saturating_add(EMERGENCY_LIMIT_PERIOD_SECS) > now)
            .collect()
    }

    /// Checks the bar and the daily limit, then opens the window and counts the
    /// opening. Returns the end of the window.
    pub fn open(
        &mut self,
        patient: Address,
        doctor: Address,
        now: u64,
        window_secs: u64,
    ) -> Result<u64, OpenError> {
        let barred_until = self.bar(patient, doctor);
        if barred_until > now {
            return Err(OpenError::Barred(EmergencyBarred {
                patient,
                doctor,
                barredUntil: barred_until,
            }));
        }
        let limit = self.daily_limit();
        let mut recent = self.recent_opens(doctor, now);
        if recent.len() >= limit as usize {
            return Err(OpenError::Limit(EmergencyLimitReached { doctor, limit }));
        }
        recent.push(now);
        let mut opens = self.opens.setter(doctor);
        while opens.pop().is_some() {}
        for t in recent {
            opens.push(U64::from(t));
        }
        let expires_at = now + window_secs;
        self.windows
            .setter(patient)
            .setter(doctor)
            .set(U64::from(expires_at));
        Ok(expires_at)
    }

    /// Ends an open window and bars the doctor. Returns the end of the bar.
    pub fn close(
        &mut self,
        patient: Address,
        doctor: Address,
        now: u64,
    ) -> Result<u64, NoEmergencyAccess> {
        if self.window(patient, doctor) <= now {
            return Err(NoEmergencyAccess { patient, doctor });
        }
        let barred_until = now + EMERGENCY_BAR_SECS;
        self.windows.setter(patient).setter(doctor).set(U64::ZERO);
        self.bars
            .setter(patient)
            .setter(doctor)
            .set(U64::from(barred_until));
        Ok(barred_until)
    }

    /// Lifts a bar that still holds.
    pub fn lift(&mut self, patient: Address, doctor: Address, now: u64) -> Result<(), NotBarred> {
        if self.bar(patient, doctor) <= now {
            return Err(NotBarred { patient, doctor });
        }
        self.bars.setter(patient).setter(doctor).set(U64::ZERO);
        Ok(())
    }
}

/// Why an opening was refused by the rules kept here.
pub enum OpenError {
    /// The patient's bar on the doctor holds.
    Barred(EmergencyBarred),
    /// The doctor opened the daily limit of windows in the last rolling day.
    Limit(EmergencyLimitReached),
}

#[cfg(test)]
mod tests {
    //! The counting alone, on one storage host: what the contract tests cannot see
    //! (how many openings are kept) and the exact boundaries of each period.

    use super::*;
    use careledger_common::DEFAULT_EMERGENCY_DAILY_LIMIT;
    use stylus_sdk::testing::TestVM;

    const P: Address = Address::with_last_byte(1);
    const Q: Address = Address::with_last_byte(2);
    const D: Address = Address::with_last_byte(0x11);
    const E: Address = Address::with_last_byte(0x12);
    const T: u64 = 1_700_000_000;
    const DAY: u64 = EMERGENCY_LIMIT_PERIOD_SECS;
    const WINDOW: u64 = 4 * 3600;

    fn emergency(limit: u8) -> Emergency {
        let mut e = Emergency::from(&TestVM::default());
        e.set_daily_limit(limit).unwrap();
        e
    }

    /// The end of the window of an opening that must succeed (`OpenError` has no
    /// `Debug`, so no `unwrap`).
    fn opened(result: Result<u64, OpenError>) -> u64 {
        match result {
            Ok(end) => end,
            Err(OpenError::Barred(b)) => panic!("barred until {}", b.barredUntil),
            Err(OpenError::Limit(l)) => panic!("limit {} reached", l.limit),
        }
    }

    /// How many opening times are kept in storage for `doctor`.
    fn kept(e: &Emergency, doctor: Address) -> usize {
        e.opens.get(doctor).len()
    }

    #[test]
    fn a_fresh_store_has_no_windows_no_bars_and_a_limit_of_zero() {
        let e = Emergency::from(&TestVM::default());
        assert_eq!(e.daily_limit(), 0);
        assert_eq!((e.window(P, D), e.bar(P, D)), (0, 0));
        assert!(e.recent_opens(D, T).is_empty());
    }

    #[test]
    fn a_limit_of_zero_refuses_every_opening() {
        let mut e = emergency(0);
        assert!(matches!(
            e.open(P, D, T, WINDOW),
            Err(OpenError::Limit(ref l)) if l.limit == 0 && l.doctor == D
        ));
        assert_eq!(e.window(P, D), 0);
        assert_eq!(kept(&e, D), 0);
    }

    #[test]
    fn set_daily_limit_accepts_zero_to_sixteen_and_refuses_more() {
        let mut e = emergency(DEFAULT_EMERGENCY_DAILY_LIMIT);
        for limit in 0..=MAX_EMERGENCY_DAILY_LIMIT {
            e.set_daily_limit(limit).unwrap();
            assert_eq!(e.daily_limit(), limit);
        }
        for limit in [MAX_EMERGENCY_DAILY_LIMIT + 1, u8::MAX] {
            assert_eq!(e.set_daily_limit(limit).unwrap_err().limit, limit);
            assert_eq!(e.daily_limit(), MAX_EMERGENCY_DAILY_LIMIT);
        }
    }

    #[test]
    fn an_opening_counts_for_exactly_one_period() {
        let mut e = emergency(1);
        opened(e.open(P, D, T, WINDOW));
        assert_eq!(e.recent_opens(D, T + DAY - 1), vec![T]);
        assert!(e.recent_opens(D, T + DAY).is_empty());
        assert!(matches!(
            e.open(Q, D, T + DAY - 1, WINDOW),
            Err(OpenError::Limit(_))
        ));
        opened(e.open(Q, D, T + DAY, WINDOW));
    }

    #[test]
    fn opening_drops_openings_older_than_a_day_from_storage() {
        let mut e = emergency(3);
        for i in 0..3 {
            opened(e.open(P, D, T + i * 3600, WINDOW));
        }
        assert_eq!(kept(&e, D), 3);
        opened(e.open(P, D, T + DAY + 3600, WINDOW));
        // T and T+1h aged out; T+2h and the new one stay.
        assert_eq!(kept(&e, D), 2);
        assert_eq!(
            e.recent_opens(D, T + DAY + 3600),
            vec![T + 2 * 3600, T + DAY + 3600]
        );
    }

    #[test]
    fn the_openings_kept_never_exceed_the_highest_limit() {
        let mut e = emergency(MAX_EMERGENCY_DAILY_LIMIT);
        let mut now = T;
        // Try to open every 20 minutes for three days, at the highest limit.
        for _ in 0..(3 * 72) {
            let _ = e.open(P, D, now, WINDOW);
            assert!(kept(&e, D) <= usize::from(MAX_EMERGENCY_DAILY_LIMIT));
            assert!(e.recent_opens(D, now).len() <= usize::from(MAX_EMERGENCY_DAILY_LIMIT));
            now += 1200;
        }
        // A lowered limit keeps what was stored but lets nothing more through.
        e.set_daily_limit(2).unwrap();
        assert!(e.open(Q, D, now, WINDOW).is_err());
        assert!(kept(&e, D) <= usize::from(MAX_EMERGENCY_DAILY_LIMIT));
    }

    #[test]
    fn each_doctor_has_its_own_count() {
        let mut e = emergency(1);
        opened(e.open(P, D, T, WINDOW));
        opened(e.open(P, E, T, WINDOW));
        assert!(e.open(Q, D, T, WINDOW).is_err());
        assert_eq!((kept(&e, D), kept(&e, E)), (1, 1));
    }

    #[test]
    fn a_refused_opening_writes_nothing() {
        let mut e = emergency(1);
        opened(e.open(P, D, T, WINDOW));
        assert!(e.open(Q, D, T + 10, WINDOW).is_err());
        assert_eq!(e.window(Q, D), 0);
        assert_eq!(e.recent_opens(D, T + 10), vec![T]);
    }

    #[test]
    fn close_ends_the_window_and_bars_for_thirty_days() {
        let mut e = emergency(3);
        let end = opened(e.open(P, D, T, WINDOW));
        assert_eq!(end, T + WINDOW);
        let until = e.close(P, D, T + 60).unwrap();
        assert_eq!(until, T + 60 + EMERGENCY_BAR_SECS);
        assert_eq!((e.window(P, D), e.bar(P, D)), (0, until));
        assert!(matches!(
            e.open(P, D, until - 1, WINDOW),
            Err(OpenError::Barred(ref b)) if b.barredUntil == until
        ));
        opened(e.open(P, D, until, WINDOW));
    }

    #[test]
    fn a_window_can_be_closed_up_to_its_last_second_only() {
        let mut e = emergency(3);
        let end = opened(e.open(P, D, T, WINDOW));
        let err = e.close(P, D, end).unwrap_err();
        assert_eq!((err.patient, err.doctor), (P, D));
        assert_eq!(e.bar(P, D), 0);
        e.close(P, D, end - 1).unwrap();
    }

    #[test]
    fn a_bar_is_checked_before_the_limit_and_a_barred_attempt_is_not_counted() {
        let mut e = emergency(2);
        opened(e.open(P, D, T, WINDOW));
        e.close(P, D, T).unwrap();
        opened(e.open(Q, D, T, WINDOW));
        // At the limit and barred on P: the bar is what the doctor hears.
        assert!(matches!(
            e.open(P, D, T + 1, WINDOW),
            Err(OpenError::Barred(_))
        ));
        assert_eq!(e.recent_opens(D, T + 1).len(), 2);
    }

    #[test]
    fn lift_removes_a_holding_bar_only() {
        let mut e = emergency(3);
        assert!(e.lift(P, D, T).is_err());
        opened(e.open(P, D, T, WINDOW));
        let until = e.close(P, D, T).unwrap();
        assert!(e.lift(Q, D, T).is_err());
        assert!(e.lift(P, E, T).is_err());
        assert!(e.lift(P, D, until).is_err(), "an ended bar is no bar");
        e.lift(P, D, until - 1).unwrap();
        assert_eq!(e.bar(P, D), 0);
        assert!(e.lift(P, D, until - 1).is_err());
    }
}
