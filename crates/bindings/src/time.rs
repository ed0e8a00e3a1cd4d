//! Times read from the chain, as text. Anyone can put any `uint64` in a grant's
//! expiry (a grant to the year 584 billion costs one transaction), so every u64
//! must render, and none may panic a client.

use std::time::{Duration, UNIX_EPOCH};

/// The last second an RFC 3339 time has four year digits for: 9999-12-31T23:59:59Z.
pub const LAST_RFC3339: u64 = 253_402_300_799;

/// Unix seconds as an RFC 3339 UTC time (`2026-11-25T12:30:45Z`); a time past
/// the year 9999 as `unix time N (after the year 9999)`.
pub fn rfc3339(secs: u64) -> String {
    if secs > LAST_RFC3339 {
        return format!("unix time {secs} (after the year 9999)");
    }
    humantime::format_rfc3339_seconds(UNIX_EPOCH + Duration::from_secs(secs)).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_u64_time_renders() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_893_456_000), "2030-01-01T00:00:00Z");
        assert_eq!(rfc3339(LAST_RFC3339), "9999-12-31T23:59:59Z");
        assert_eq!(
            rfc3339(LAST_RFC3339 + 1),
            "unix time 253402300800 (after the year 9999)"
        );
        assert_eq!(
            rfc3339(u64::MAX),
            "unix time 18446744073709551615 (after the year 9999)"
        );
    }
}
