//! The command line: verbs that read as English, options shared by all of them.

use alloy::primitives::Address;
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "careledger",
    version,
    about = "Encrypted health records on IPFS, access decided on chain (Arbitrum Stylus)",
    after_help = "Keys: --keystore FILE (password from CARELEDGER_PASSWORD, --password-file or a prompt), \
                  or CARELEDGER_PRIVATE_KEY. Every command takes --json."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Args, Debug, Clone)]
pub struct Global {
    /// JSON-RPC endpoint of the chain (a devnode, nitro-devnode or Arbitrum).
    #[arg(
        long,
        global = true,
        env = "CARELEDGER_RPC_URL",
        default_value = "http://127.0.0.1:8547"
    )]
    pub rpc_url: String,
    /// Web3 Secret Storage keystore of the signing account.
    #[arg(long, global = true, env = "CARELEDGER_KEYSTORE")]
    pub keystore: Option<PathBuf>,
    /// File holding the keystore password (else CARELEDGER_PASSWORD, else a prompt).
    #[arg(long, global = true)]
    pub password_file: Option<PathBuf>,
    /// Where the contracts' addresses are kept.
    #[arg(
        long,
        global = true,
        env = "CARELEDGER_DEPLOYMENT",
        default_value = "careledger-deployment.json"
    )]
    pub deployment: PathBuf,
    /// The embedded IPFS block store (encrypted blocks only).
    #[arg(
        long,
        global = true,
        env = "CARELEDGER_STORE",
        default_value = ".careledger/ipfs"
    )]
    pub store: PathBuf,
    /// A kubo-style IPFS node (kubo, js-ipfs): records are pushed to it as CARs and
    /// fetched from it, every block checked against its CID.
    #[arg(long, global = true, env = "CARELEDGER_IPFS_API")]
    pub ipfs_api: Option<String>,
    /// The record (X25519) key of an account set up in the web app: its key file,
    /// the app's backup or `keys export-web`, used instead of the key derived from
    /// the signing key. Passphrase from CARELEDGER_WEB_PASSPHRASE or a prompt.
    #[arg(long, global = true, env = "CARELEDGER_WEB_KEY")]
    pub web_key: Option<PathBuf>,
    /// Seconds the chain's node, an IPFS node, a pinning service or a notifier may
    /// take to connect or to answer before the command gives up (an IPFS transfer
    /// may take longer, as long as the node is never silent that long).
    #[arg(
        long,
        global = true,
        env = "CARELEDGER_TIMEOUT",
        value_name = "SECS",
        default_value_t = 30,
        value_parser = clap::value_parser!(u64).range(1..=86_400)
    )]
    pub timeout: u64,
    /// Machine-readable output on stdout.
    #[arg(long, global = true)]
    pub json: bool,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Deploy and activate the three contracts (as cargo stylus does) and save their addresses.
    Deploy {
        /// Directory with patient-registry.wasm, access-token.wasm, record-registry.wasm.
        #[arg(long, default_value = "target/contracts")]
        contracts: PathBuf,
    },
    /// Create or inspect a keystore.
    #[command(subcommand)]
    Keys(KeysCmd),
    /// Patients.
    #[command(subcommand)]
    Patient(PatientCmd),
    /// Doctors.
    #[command(subcommand)]
    Doctor(DoctorCmd),
    /// Accredited verifiers (owner only).
    #[command(subcommand)]
    Verifier(VerifierCmd),
    /// Stop new registrations, grants and emergency windows (owner only);
    /// revocations, closes and reads go on.
    Pause,
    /// End a pause (owner only).
    Unpause,
    /// Encrypted records.
    #[command(subcommand)]
    Record(RecordCmd),
    /// Grant a doctor access to your records (and share the keys of those in scope).
    Grant {
        #[arg(value_parser = address_arg)]
        doctor: String,
        /// `all`, `records:ID[,ID…]` or `category:NAME` (coded with your key, as `record add` does).
        #[arg(long, default_value = "all")]
        scope: String,
        /// A duration (`30d`, `12h`, `2w`: a whole number and one of s m h d w), a
        /// date (`2027-01-31`), a UTC time (`2027-01-31T12:00:00Z`) or unix seconds;
        /// at most 100 years ahead.
        #[arg(long, value_parser = expiry_arg)]
        expires: String,
    },
    /// Revoke a grant token.
    Revoke { token: String },
    /// Grants given or received.
    #[command(subcommand)]
    Grants(GrantsCmd),
    /// Break-glass: a verified doctor opens a window, the patient's custodians release keys.
    #[command(subcommand)]
    Emergency(EmergencyCmd),
    /// For an emergency custodian: release a patient's record keys to a doctor
    /// while the chain shows its emergency window open.
    #[command(subcommand)]
    Custodian(CustodianCmd),
    /// A patient's history from the chain: records, reads, grants, revocations, emergencies.
    Audit {
        /// Defaults to the signing account.
        #[arg(value_parser = address_arg)]
        patient: Option<String>,
        /// Print a FHIR R4 Bundle of AuditEvent resources.
        #[arg(long)]
        fhir: bool,
    },
    /// Email notices: register your address with a notifier (signed, EIP-712).
    #[command(subcommand)]
    Notify(NotifyCmd),
    /// Print the contracts' events as they happen.
    Watch {
        /// Stop after this many events.
        #[arg(long)]
        count: Option<usize>,
        /// Start from this block (default: the next one).
        #[arg(long)]
        from_block: Option<u64>,
    },
    /// Store and fetch encrypted blocks in the embedded IPFS store.
    #[command(subcommand)]
    Ipfs(IpfsCmd),
    /// The whole story on an in-process devnode: register, verify, add, grant, read, revoke, emergency.
    /// With --web: a devnode with CareLedger deployed, and the browser app served, until Ctrl-C.
    Demo {
        /// Keep the demo's files here (default: a temporary directory).
        #[arg(long)]
        dir: Option<PathBuf>,
        /// Directory with the contracts' WASM (scripts/build-contracts writes it).
        #[arg(long, default_value = "target/contracts")]
        contracts: PathBuf,
        #[command(flatten)]
        web: DemoWeb,
    },
}

/// `demo --web`: the app on a fresh chain, for people and browser tests.
#[derive(Args, Debug, Clone)]
pub struct DemoWeb {
    /// The built browser app (web/dist): serve it, with the IPFS RPC API, instead of the story.
    #[arg(long, value_name = "DIR")]
    pub web: Option<PathBuf>,
    /// Loopback address of the app and IPFS API (port 0 picks a free one).
    #[arg(long, default_value = "127.0.0.1:8080", requires = "web")]
    pub listen: String,
    /// Loopback address of the devnode's JSON-RPC (port 0 picks a free one).
    #[arg(long, default_value = "127.0.0.1:8547", requires = "web")]
    pub rpc_listen: String,
    /// Another origin that may call the IPFS API (e.g. a vite dev server); repeatable.
    #[arg(long = "allow-origin", value_name = "URL", requires = "web")]
    pub allow_origin: Vec<String>,
    /// A careledger-notifier's base URL, for the app's configuration.
    #[arg(long, value_name = "URL", requires = "web")]
    pub notifier: Option<String>,
    /// Also print the dev accounts' private keys (the devnode's public, throwaway keys).
    #[arg(long, requires = "web")]
    pub print_keys: bool,
}

#[derive(Subcommand, Debug)]
pub enum KeysCmd {
    /// Create a new keystore (the password from CARELEDGER_PASSWORD, --password-file or a prompt).
    New {
        /// Where to write it.
        out: PathBuf,
    },
    /// The address and X25519 public key of the signing account (never the secret).
    Show,
    /// Write the signing account's X25519 record key, locked with a passphrase
    /// (CARELEDGER_WEB_PASSPHRASE or a prompt), as a key file the web app imports:
    /// the same account then reads its records in the browser too.
    ExportWeb {
        /// Where to write the key file (mode 0600; refused if it exists).
        out: PathBuf,
    },
}

#[derive(Subcommand, Debug)]
pub enum PatientCmd {
    /// Register the signing account as a patient with its X25519 key.
    Register,
}

#[derive(Subcommand, Debug)]
pub enum DoctorCmd {
    /// Register the signing account as a doctor.
    Register {
        /// Licence number; only a salted commitment of it goes on chain. The salt is
        /// printed: hand licence and salt to the verifiers off chain.
        #[arg(long)]
        licence: String,
        /// Reuse this 32-byte salt (hex) instead of a fresh random one.
        #[arg(long)]
        licence_salt: Option<String>,
    },
    /// For verifiers: whether a licence number and the salt the doctor handed you
    /// match the licence commitment DOCTOR registered on chain (exit 1 if not).
    CheckLicence {
        #[arg(value_parser = address_arg)]
        doctor: String,
        /// The licence number the doctor showed you.
        #[arg(long)]
        licence: String,
        /// The salt the doctor handed you off chain (32 bytes in hex).
        #[arg(long)]
        salt: String,
    },
    /// Approve a doctor (verifiers only); it is verified once enough distinct
    /// verifiers approved it (`verifier threshold`).
    Verify {
        #[arg(value_parser = address_arg)]
        doctor: String,
    },
    /// Suspend a doctor (verifiers only).
    Suspend {
        #[arg(value_parser = address_arg)]
        doctor: String,
    },
    /// Whether an account is a registered, verified or suspended doctor.
    Status {
        #[arg(value_parser = address_arg)]
        doctor: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum VerifierCmd {
    Add {
        #[arg(value_parser = address_arg)]
        verifier: String,
    },
    Remove {
        #[arg(value_parser = address_arg)]
        verifier: String,
    },
    /// Set how many distinct verifiers must approve a doctor (owner only; 1 to 8).
    Threshold { threshold: u8 },
}

#[derive(Subcommand, Debug)]
pub enum RecordCmd {
    /// Encrypt FILE, store it, put its pointer on chain, and wrap its key for you and your current grantees.
    Add {
        file: PathBuf,
        /// Category name (e.g. lab, imaging): on chain only as an HMAC code under a key
        /// derived from yours, so no dictionary recovers it; 0x + 64 hex is taken as a code.
        #[arg(long, default_value = "")]
        category: String,
        /// Wrap a non-FHIR file in a FHIR R4 DocumentReference Bundle (up to 64 MiB).
        #[arg(long)]
        as_fhir: bool,
    },
    /// Records of a patient (default: you), as far as you may see them.
    List {
        #[arg(value_parser = address_arg)]
        patient: Option<String>,
    },
    /// Log the read on chain, fetch, verify and decrypt a record into FILE.
    Get {
        id: String,
        #[arg(short, long)]
        output: PathBuf,
        /// Replace FILE if it exists (it is refused otherwise).
        #[arg(long)]
        force: bool,
    },
    /// Re-encrypt a record under a fresh key for its current readers only (after a revocation).
    Rekey { id: String },
}

#[derive(Subcommand, Debug)]
pub enum GrantsCmd {
    /// Grants you gave (as a patient) or received (with --received).
    List {
        #[arg(long)]
        received: bool,
        /// Print a FHIR R4 Bundle of Consent resources.
        #[arg(long)]
        fhir: bool,
    },
    /// Wrap the keys of your records for your custodians and for every doctor whose
    /// grant covers them and who lacks one. Doctors with an emergency window get keys
    /// from your custodians; you share with one yourself only by naming it.
    Sync {
        /// Also share with this doctor, who holds an open emergency window on you
        /// (you confirm by naming it; repeatable).
        #[arg(long = "confirm-emergency", value_name = "DOCTOR", value_parser = address_arg)]
        confirm_emergency: Vec<String>,
    },
}

/// Why a doctor breaks the glass (emitted on chain with the window).
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason {
    /// The patient is unconscious or otherwise unable to consent.
    Unconscious,
    /// A life-threatening condition needs the history now.
    LifeThreatening,
    /// The patient cannot communicate.
    CannotCommunicate,
    /// Another urgent treatment that cannot wait for consent.
    OtherUrgent,
}

#[derive(Subcommand, Debug)]
pub enum EmergencyCmd {
    /// Open break-glass access to a patient who named custodians (verified doctors;
    /// logged on chain with the reason; at most the daily limit of windows per day).
    Open {
        #[arg(value_parser = address_arg)]
        patient: String,
        #[arg(long, value_enum)]
        reason: Reason,
    },
    /// Close a doctor's emergency access to your records; it bars that doctor from
    /// re-opening on you for 30 days.
    Close {
        #[arg(value_parser = address_arg)]
        doctor: String,
    },
    /// Lift your bar on a doctor early.
    Lift {
        #[arg(value_parser = address_arg)]
        doctor: String,
    },
    /// Your emergency custodians: accounts with a registered key who can release
    /// your record keys to a doctor in an emergency. None: break-glass is off.
    #[command(subcommand)]
    Custodians(CustodiansCmd),
    /// A patient's emergency policy: custodians, open windows, bars, the daily limit.
    Status {
        /// Defaults to the signing account.
        #[arg(value_parser = address_arg)]
        patient: Option<String>,
    },
    /// Set how many windows a doctor may open per rolling day (registry owner; 0 to 16).
    Limit { limit: u8 },
}

#[derive(Subcommand, Debug)]
pub enum CustodiansCmd {
    /// Name up to 4 custodians (replaces the list) and wrap your records' keys for them.
    Set {
        #[arg(required = true, num_args = 1.., value_parser = address_arg)]
        custodians: Vec<String>,
    },
    /// Remove every custodian: break-glass is off for you.
    Clear,
    /// List a patient's custodians (default: you).
    Show {
        #[arg(value_parser = address_arg)]
        patient: Option<String>,
    },
}

#[derive(Subcommand, Debug)]
pub enum CustodianCmd {
    /// Follow emergency windows on the patients who named you and release their
    /// record keys to each opener while its window is open, until Ctrl-C.
    Watch {
        /// Seconds between looks at the chain (1 to 3600).
        #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=3600))]
        poll_secs: u64,
        /// Release for the windows open now, then exit.
        #[arg(long)]
        once: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum NotifyCmd {
    /// Have a notifier email your notices to EMAIL: it mails a code there, and
    /// the address is yours once `notify confirm CODE` sends it back (an earlier
    /// confirmed address keeps the notices until then).
    Register {
        email: String,
        /// The notifier's base URL.
        #[arg(long, env = "CARELEDGER_NOTIFIER_URL")]
        notifier: String,
    },
    /// Confirm your new address with the code the notifier mailed to it.
    Confirm {
        /// The code from the mail (case, spaces and dashes do not matter).
        code: String,
        #[arg(long, env = "CARELEDGER_NOTIFIER_URL")]
        notifier: String,
    },
    /// Whether a notifier has an address for you: none, pending (a code was
    /// mailed) or confirmed. Never shows the address.
    Status {
        /// Defaults to the signing account.
        #[arg(value_parser = address_arg)]
        account: Option<String>,
        #[arg(long, env = "CARELEDGER_NOTIFIER_URL")]
        notifier: String,
    },
    /// Stop a notifier's emails to you (removes the confirmed and any pending address).
    Remove {
        #[arg(long, env = "CARELEDGER_NOTIFIER_URL")]
        notifier: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum IpfsCmd {
    /// Add a file (usually already encrypted) and print its CID.
    Add { file: PathBuf },
    /// Write the file under CID to FILE.
    Cat {
        cid: String,
        #[arg(short, long)]
        output: PathBuf,
    },
    /// Write the DAG under CID as a CARv1 file.
    Export {
        cid: String,
        #[arg(short, long)]
        output: PathBuf,
    },
    /// Import a CARv1 file (every block checked); prints its root.
    Import { car: PathBuf },
    /// Serve kubo's RPC API (the part a browser app uses) over the embedded store on
    /// loopback, and with --web the built app, until Ctrl-C or SIGTERM.
    Serve {
        /// Loopback address to listen on (port 0 picks a free one).
        #[arg(long, default_value = "127.0.0.1:5001")]
        listen: String,
        /// An origin (scheme://host[:port]) other than this server's that may call it; repeatable.
        #[arg(long = "allow-origin", value_name = "URL")]
        allow_origin: Vec<String>,
        /// The built browser app (web/dist) to serve at /, with /careledger.json.
        #[arg(long, value_name = "DIR")]
        web: Option<PathBuf>,
        /// A careledger-notifier's base URL, for the app's configuration.
        #[arg(long, env = "CARELEDGER_NOTIFIER_URL", value_name = "URL")]
        notifier: Option<String>,
    },
    /// Ask a pinning service (IPFS Pinning Service API) to keep CID; the bearer
    /// token comes from CARELEDGER_PIN_TOKEN.
    Pin {
        cid: String,
        /// The service's endpoint, e.g. https://api.example-pinning.io
        #[arg(long, env = "CARELEDGER_PIN_SERVICE")]
        service: String,
        /// A name for the pin: never put health data here, services see it.
        #[arg(long)]
        name: Option<String>,
        /// Wait until the service reports it pinned (seconds, at most a day).
        #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u64).range(0..=86_400))]
        wait: u64,
    },
}

// The value parsers. Each argument of a kind goes through one of these, at parse
// time, and the commands' library functions (which the demo and other crates
// call with strings) parse again with the same function, so there is one
// grammar per kind of value.

/// An account address: `0x` and 40 hex digits. All-lowercase or all-uppercase
/// hex carries no checksum and is taken as it is, as cast takes it; mixed case
/// is an EIP-55 checksum, and a wrong one means the address was mistyped or
/// altered on its way here, so it is refused rather than corrected.
pub fn address(s: &str) -> Result<Address, String> {
    let not_one = || {
        format!(
            "{} is not an address (0x followed by 40 hex digits)",
            crate::output::quote(s, 50)
        )
    };
    let hex = s.strip_prefix("0x").ok_or_else(not_one)?;
    if hex.len() != 40 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(not_one());
    }
    let address: Address = hex.parse().map_err(|_| not_one())?;
    let lower = hex.bytes().any(|b| b.is_ascii_lowercase());
    let upper = hex.bytes().any(|b| b.is_ascii_uppercase());
    // The expected spelling is not printed: copying it would accept the typo.
    if lower && upper && address.to_checksum(None)[2..] != *hex {
        return Err(format!(
            "{s} has a wrong EIP-55 checksum (its mixed case does not match the address): \
             check it against where it came from"
        ));
    }
    Ok(address)
}

/// `address` for clap: the argument stays a string for the commands' functions.
fn address_arg(s: &str) -> Result<String, String> {
    address(s).map(|_| s.to_string())
}

/// Seconds in each unit a duration may be written in.
const UNITS: [(char, u64); 5] = [
    ('s', 1),
    ('m', 60),
    ('h', 3_600),
    ('d', 86_400),
    ('w', 604_800),
];

/// A duration: a whole number above zero and one unit, `s`, `m` (minutes), `h`,
/// `d` or `w`, nothing else (`30d`, `12h`). No sums (`30d30d`), spaces (`30 d`),
/// signs, fractions or months: a grant's length should read one way only.
pub fn duration_secs(s: &str) -> Result<u64, String> {
    let bad = || {
        format!(
            "{} is not a duration: a whole number and one unit of s, m, h, d, w (e.g. 30d)",
            crate::output::quote(s, 40)
        )
    };
    let unit = s.chars().last().ok_or_else(bad)?;
    let scale = UNITS
        .iter()
        .find(|(u, _)| *u == unit)
        .map(|(_, scale)| *scale)
        .ok_or_else(bad)?;
    let digits = &s[..s.len() - 1];
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let count: u64 = digits
        .parse()
        .map_err(|_| format!("{} is too long a duration", crate::output::quote(s, 40)))?;
    if count == 0 {
        return Err(format!("{s} is a duration of zero"));
    }
    count
        .checked_mul(scale)
        .ok_or_else(|| format!("{} is too long a duration", crate::output::quote(s, 40)))
}

/// The furthest ahead a grant may be set to end: 100 years (36,525 days) of
/// chain time. A consent longer than a lifetime is a typo (unix milliseconds for
/// seconds, a zero too many) or a wish for "forever", which a grant is not; and
/// every time below it prints as a date.
pub const MAX_EXPIRY_AHEAD: u64 = 36_525 * 86_400;

fn too_far() -> String {
    "is more than 100 years ahead: a grant ends within a lifetime (did you give \
     milliseconds?); grant for less and grant again later"
        .into()
}

/// The end of a grant as written on the command line, before it is set against
/// the chain's clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expiry {
    /// This many seconds after the chain's latest block.
    In(u64),
    /// At this unix time.
    At(u64),
}

impl Expiry {
    /// A duration ([`duration_secs`]), a date (`2027-01-31`, midnight UTC), a UTC
    /// RFC 3339 time (`2027-01-31T12:00:00Z`) or unix seconds (digits only).
    pub fn parse(s: &str) -> Result<Self, String> {
        let bad = || {
            format!(
                "{} is not an expiry: expected a duration (30d), a date (2027-01-31), \
                 a UTC time (2027-01-31T12:00:00Z) or unix seconds",
                crate::output::quote(s, 40)
            )
        };
        if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
            return s
                .parse()
                .map(Self::At)
                .map_err(|_| format!("{} is too large a unix time", crate::output::quote(s, 40)));
        }
        if s.ends_with(|c: char| UNITS.iter().any(|(u, _)| *u == c))
            && s.starts_with(|c: char| c.is_ascii_digit())
        {
            let secs = duration_secs(s)?;
            // Known too long without the chain's clock: refused before any work.
            if secs > MAX_EXPIRY_AHEAD {
                return Err(format!("{s} {}", too_far()));
            }
            return Ok(Self::In(secs));
        }
        let is_date = s.len() == 10 && s.as_bytes()[4] == b'-' && s.as_bytes()[7] == b'-';
        let stamp = if is_date {
            format!("{s}T00:00:00Z")
        } else {
            s.to_string()
        };
        let when = humantime::parse_rfc3339(&stamp).map_err(|_| bad())?;
        let secs = when
            .duration_since(std::time::UNIX_EPOCH)
            .map_err(|_| bad())?
            .as_secs();
        Ok(Self::At(secs))
    }

    /// The unix time this expiry ends at, given the chain's `now`: in the future,
    /// and at most [`MAX_EXPIRY_AHEAD`] ahead.
    pub fn at(self, now: u64) -> Result<u64, String> {
        let at = match self {
            Self::In(secs) if secs > MAX_EXPIRY_AHEAD => return Err(too_far()),
            // Only a chain whose clock is near the end of u64 overflows here.
            Self::In(secs) => now.checked_add(secs).ok_or_else(too_far)?,
            Self::At(at) => at,
        };
        if at <= now {
            return Err("is not in the future".into());
        }
        if at - now > MAX_EXPIRY_AHEAD {
            return Err(too_far());
        }
        Ok(at)
    }
}

/// `Expiry::parse` for clap: the argument stays a string for `grants::grant`.
fn expiry_arg(s: &str) -> Result<String, String> {
    Expiry::parse(s).map(|_| s.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_with_a_wrong_checksum_are_refused_and_unchecked_case_is_taken() {
        let good = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed";
        let expected: Address = good.to_lowercase().parse().unwrap();
        assert_eq!(address(good).unwrap(), expected);
        assert_eq!(address(&good.to_lowercase()).unwrap(), expected);
        let upper = format!("0x{}", good[2..].to_uppercase());
        assert_eq!(address(&upper).unwrap(), expected);
        // One letter's case flipped: a checksum that does not match.
        let typo = good.replacen("aA", "AA", 1);
        let err = address(&typo).unwrap_err();
        assert!(err.contains("EIP-55"), "{err}");
        assert!(!err.contains(good), "the fix is not handed out: {err}");
        for bad in [
            "",
            "0x",
            "5aaeb6053f3e94c9b9a09f33669435e7ef1beaed",
            "0X5aaeb6053f3e94c9b9a09f33669435e7ef1beaed",
            "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beae",
            "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaedd",
            "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaeg",
            " 0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed",
            "0x+aaeb6053f3e94c9b9a09f33669435e7ef1beaed",
        ] {
            let err = address(bad).unwrap_err();
            assert!(err.contains("not an address"), "{bad:?}: {err}");
        }
    }

    #[test]
    fn durations_are_one_number_and_one_unit() {
        assert_eq!(duration_secs("30d"), Ok(30 * 86_400));
        assert_eq!(duration_secs("12h"), Ok(12 * 3_600));
        assert_eq!(duration_secs("90m"), Ok(90 * 60));
        assert_eq!(duration_secs("45s"), Ok(45));
        assert_eq!(duration_secs("2w"), Ok(2 * 604_800));
        for bad in [
            "30d30d", "30 d", " 30d", "30d ", "d", "30", "-1d", "+1d", "1.5d", "30D", "30min",
            "1y", "1M", "３0d", "",
        ] {
            assert!(duration_secs(bad).is_err(), "{bad:?}");
        }
        assert!(duration_secs("0d").unwrap_err().contains("zero"));
        assert!(duration_secs("00s").unwrap_err().contains("zero"));
        assert!(duration_secs("99999999999999999999d")
            .unwrap_err()
            .contains("too long"));
        assert!(duration_secs("18446744073709551615w")
            .unwrap_err()
            .contains("too long"));
    }

    #[test]
    fn expiries_are_durations_dates_times_or_seconds_within_a_hundred_years() {
        let now = 1_800_000_000;
        let at = |s: &str| Expiry::parse(s).and_then(|e| e.at(now));
        assert_eq!(at("30d"), Ok(now + 30 * 86_400));
        assert_eq!(at("1h"), Ok(now + 3_600));
        assert_eq!(at("2030-01-01"), Ok(1_893_456_000));
        assert_eq!(at("2030-01-01T12:00:00Z"), Ok(1_893_456_000 + 43_200));
        assert_eq!(at("1900000000"), Ok(1_900_000_000));
        assert_eq!(at("5200w"), Ok(now + 5_200 * 604_800));
        for past in ["2020-01-01", "0", "1800000000"] {
            assert!(
                at(past).unwrap_err().contains("not in the future"),
                "{past}"
            );
        }
        for far in ["99999999999d", "36526d", "2200-01-01", "1800000000000"] {
            assert!(at(far).unwrap_err().contains("100 years"), "{far}");
        }
        for bad in [
            "tomorrow-ish",
            "30d30d",
            "30 d",
            "0d",
            "",
            "2030-1-1",
            "2030-02-30",
            "2030-01-01 12:00:00",
            "2030-01-01T12:00:00+02:00",
            "99999999999999999999",
            "99999999999999999999d",
        ] {
            assert!(Expiry::parse(bad).is_err(), "{bad:?}");
        }
        // The largest u64 the chain could hold is refused, not added to `now`.
        assert!(Expiry::In(u64::MAX).at(u64::MAX - 1).is_err());
        assert!(Expiry::At(u64::MAX).at(0).is_err());
    }
}
