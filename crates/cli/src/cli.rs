//! The command line: verbs that read as English, options shared by all of them.

use alloy::primitives::{Address, B256, U256};
use careledger_vault::ipfs::{Cid, KuboClient};
use careledger_vault::ReaderKeypair;
use clap::{Args, Parser, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;

/// A parsed command line: what `main` and in-process callers hand to [`crate::run`].
#[derive(Parser, Debug)]
#[command(
    name = "careledger",
    version,
    about = "Encrypted health records on IPFS, access decided on chain (Arbitrum Stylus)",
    after_help = "Keys: --keystore FILE (password from CARELEDGER_PASSWORD, --password-file or a prompt), \
                  or CARELEDGER_PRIVATE_KEY. Every command takes --json."
)]
pub struct Cli {
    /// The options every verb takes.
    #[command(flatten)]
    pub global: Global,
    /// The verb to run.
    #[command(subcommand)]
    pub command: Command,
}

/// The options every verb takes, each also read from its environment variable.
#[derive(Args, Debug, Clone)]
pub struct Global {
    /// JSON-RPC endpoint of the chain (a devnode, nitro-devnode or Arbitrum).
    #[arg(
        long,
        global = true,
        env = "CARELEDGER_RPC_URL",
        value_name = "URL",
        default_value = "http://127.0.0.1:8547",
        value_parser = RpcUrl::parse
    )]
    pub rpc_url: RpcUrl,
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
    #[arg(long, global = true, env = "CARELEDGER_IPFS_API", value_name = "URL", value_parser = ipfs_api)]
    pub ipfs_api: Option<KuboClient>,
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

/// The verbs; groups of them are subcommands of their own.
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
        /// The doctor's address.
        #[arg(value_parser = address)]
        doctor: Address,
        /// `all`, `records:ID[,ID…]` or `category:NAME` (coded with your key, as `record add` does).
        #[arg(long, default_value = "all", value_parser = Scope::parse)]
        scope: Scope,
        /// A duration (`30d`, `12h`, `2w`: a whole number and one of s m h d w), a
        /// date (`2027-01-31`), a UTC time (`2027-01-31T12:00:00Z`) or unix seconds;
        /// at most 100 years ahead.
        #[arg(long, value_parser = Expiry::parse)]
        expires: Expiry,
    },
    /// Revoke a grant token.
    Revoke {
        /// The grant's token id, as `grants list` shows it.
        #[arg(value_parser = token_id)]
        token: U256,
    },
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
        #[arg(value_parser = address)]
        patient: Option<Address>,
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
        /// The options of `demo --web`.
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
    #[arg(long, default_value = "127.0.0.1:8080", requires = "web", value_parser = listen)]
    pub listen: SocketAddr,
    /// Loopback address of the devnode's JSON-RPC (port 0 picks a free one).
    #[arg(long, default_value = "127.0.0.1:8547", requires = "web", value_parser = rpc_listen)]
    pub rpc_listen: SocketAddr,
    /// Another origin that may call the IPFS API (e.g. a vite dev server); repeatable.
    #[arg(long = "allow-origin", value_name = "URL", requires = "web")]
    pub allow_origin: Vec<String>,
    /// A careledger-notifier's base URL, for the app's configuration.
    #[arg(long, value_name = "URL", requires = "web", value_parser = NotifierUrl::parse)]
    pub notifier: Option<NotifierUrl>,
    /// Also print the dev accounts' private keys (the devnode's public, throwaway keys).
    #[arg(long, requires = "web")]
    pub print_keys: bool,
}

/// `keys`: the signing account's keystore and the record key derived from it.
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

/// `patient`: the patient's side of the registry.
#[derive(Subcommand, Debug)]
pub enum PatientCmd {
    /// Register the signing account as a patient with its X25519 key.
    Register,
}

/// `doctor`: registering doctors, and the verifiers' checks of them.
#[derive(Subcommand, Debug)]
pub enum DoctorCmd {
    /// Register the signing account as a doctor.
    Register {
        /// Licence number; only a salted commitment of it goes on chain. The salt is
        /// printed: hand licence and salt to the verifiers off chain.
        #[arg(long, value_parser = Licence::parse)]
        licence: Licence,
        /// Reuse this 32-byte salt (hex) instead of a fresh random one.
        #[arg(long, value_name = "SALT", value_parser = salt)]
        licence_salt: Option<B256>,
    },
    /// For verifiers: whether a licence number and the salt the doctor handed you
    /// match the licence commitment DOCTOR registered on chain (exit 1 if not).
    CheckLicence {
        /// The doctor's address.
        #[arg(value_parser = address)]
        doctor: Address,
        /// The licence number the doctor showed you.
        #[arg(long, value_parser = Licence::parse)]
        licence: Licence,
        /// The salt the doctor handed you off chain (32 bytes in hex).
        #[arg(long, value_parser = salt)]
        salt: B256,
    },
    /// Approve a doctor (verifiers only); it is verified once enough distinct
    /// verifiers approved it (`verifier threshold`).
    Verify {
        /// The doctor's address.
        #[arg(value_parser = address)]
        doctor: Address,
    },
    /// Suspend a doctor (verifiers only).
    Suspend {
        /// The doctor's address.
        #[arg(value_parser = address)]
        doctor: Address,
    },
    /// Whether an account is a registered, verified or suspended doctor.
    Status {
        /// The doctor's address.
        #[arg(value_parser = address)]
        doctor: Address,
    },
}

/// `verifier`: the owner's list of accredited verifiers and their threshold.
#[derive(Subcommand, Debug)]
pub enum VerifierCmd {
    /// Accredit a verifier: it may then approve and suspend doctors.
    Add {
        /// The verifier's address.
        #[arg(value_parser = address)]
        verifier: Address,
    },
    /// Withdraw a verifier's accreditation.
    Remove {
        /// The verifier's address.
        #[arg(value_parser = address)]
        verifier: Address,
    },
    /// Set how many distinct verifiers must approve a doctor (owner only; 1 to 8).
    Threshold {
        /// The number of approvals a doctor needs.
        threshold: u8,
    },
}

/// `record`: adding, listing, reading and re-keying encrypted records.
#[derive(Subcommand, Debug)]
pub enum RecordCmd {
    /// Encrypt FILE, store it, put its pointer on chain, and wrap its key for you and your current grantees.
    Add {
        /// The file to add.
        file: PathBuf,
        /// Category name (e.g. lab, imaging): on chain only as an HMAC code under a key
        /// derived from yours, so no dictionary recovers it; 0x + 64 hex is taken as a code.
        #[arg(long, value_parser = Category::parse)]
        category: Option<Category>,
        /// Wrap a non-FHIR file in a FHIR R4 DocumentReference Bundle (up to 64 MiB).
        #[arg(long)]
        as_fhir: bool,
    },
    /// Records of a patient (default: you), as far as you may see them.
    List {
        /// The patient's address.
        #[arg(value_parser = address)]
        patient: Option<Address>,
    },
    /// Log the read on chain, fetch, verify and decrypt a record into FILE.
    Get {
        /// The record's id.
        #[arg(value_parser = record_id)]
        id: U256,
        /// Where to write the decrypted record.
        #[arg(short, long)]
        output: PathBuf,
        /// Replace FILE if it exists (it is refused otherwise).
        #[arg(long)]
        force: bool,
    },
    /// Re-encrypt a record under a fresh key for its current readers only (after a revocation).
    Rekey {
        /// The record's id.
        #[arg(value_parser = record_id)]
        id: U256,
    },
}

/// `grants`: the grants on chain, and the key shares they call for.
#[derive(Subcommand, Debug)]
pub enum GrantsCmd {
    /// Grants you gave (as a patient) or received (with --received).
    List {
        /// The grants you received as a doctor, instead of those you gave.
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
        #[arg(long = "confirm-emergency", value_name = "DOCTOR", value_parser = address)]
        confirm_emergency: Vec<Address>,
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

/// `emergency`: break-glass windows, custodians and the limits on both.
#[derive(Subcommand, Debug)]
pub enum EmergencyCmd {
    /// Open break-glass access to a patient who named custodians (verified doctors;
    /// logged on chain with the reason; at most the daily limit of windows per day).
    Open {
        /// The patient's address.
        #[arg(value_parser = address)]
        patient: Address,
        /// Why you break the glass (on chain with the window).
        #[arg(long, value_enum)]
        reason: Reason,
    },
    /// Close a doctor's emergency access to your records; it bars that doctor from
    /// re-opening on you for 30 days.
    Close {
        /// The doctor's address.
        #[arg(value_parser = address)]
        doctor: Address,
    },
    /// Lift your bar on a doctor early.
    Lift {
        /// The doctor's address.
        #[arg(value_parser = address)]
        doctor: Address,
    },
    /// Your emergency custodians: accounts with a registered key who can release
    /// your record keys to a doctor in an emergency. None: break-glass is off.
    #[command(subcommand)]
    Custodians(CustodiansCmd),
    /// A patient's emergency policy: custodians, open windows, bars, the daily limit.
    Status {
        /// Defaults to the signing account.
        #[arg(value_parser = address)]
        patient: Option<Address>,
    },
    /// Set how many windows a doctor may open per rolling day (registry owner; 0 to 16).
    Limit {
        /// Windows per doctor per rolling day.
        limit: u8,
    },
}

/// `emergency custodians`: the accounts that may release a patient's keys.
#[derive(Subcommand, Debug)]
pub enum CustodiansCmd {
    /// Name up to 4 custodians (replaces the list) and wrap your records' keys for them.
    Set {
        /// The custodians' addresses.
        #[arg(required = true, num_args = 1.., value_parser = address)]
        custodians: Vec<Address>,
    },
    /// Remove every custodian: break-glass is off for you.
    Clear,
    /// List a patient's custodians (default: you).
    Show {
        /// The patient's address.
        #[arg(value_parser = address)]
        patient: Option<Address>,
    },
}

/// `custodian`: the custodian's side of break-glass.
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

/// `notify`: your address with a notifier, which emails you notices of your grants and records.
#[derive(Subcommand, Debug)]
pub enum NotifyCmd {
    /// Have a notifier email your notices to EMAIL: it mails a code there, and
    /// the address is yours once `notify confirm CODE` sends it back (an earlier
    /// confirmed address keeps the notices until then).
    Register {
        /// Your email address.
        email: String,
        /// The notifier's base URL.
        #[arg(long, env = "CARELEDGER_NOTIFIER_URL", value_name = "URL", value_parser = NotifierUrl::parse)]
        notifier: NotifierUrl,
    },
    /// Confirm your new address with the code the notifier mailed to it.
    Confirm {
        /// The code from the mail (case, spaces and dashes do not matter).
        #[arg(value_parser = ConfirmCode::parse)]
        code: ConfirmCode,
        /// The notifier's base URL.
        #[arg(long, env = "CARELEDGER_NOTIFIER_URL", value_name = "URL", value_parser = NotifierUrl::parse)]
        notifier: NotifierUrl,
    },
    /// Whether a notifier has an address for you: none, pending (a code was
    /// mailed) or confirmed. Never shows the address.
    Status {
        /// Defaults to the signing account.
        #[arg(value_parser = address)]
        account: Option<Address>,
        /// The notifier's base URL.
        #[arg(long, env = "CARELEDGER_NOTIFIER_URL", value_name = "URL", value_parser = NotifierUrl::parse)]
        notifier: NotifierUrl,
    },
    /// Stop a notifier's emails to you (removes the confirmed and any pending address).
    Remove {
        /// The notifier's base URL.
        #[arg(long, env = "CARELEDGER_NOTIFIER_URL", value_name = "URL", value_parser = NotifierUrl::parse)]
        notifier: NotifierUrl,
    },
}

/// `ipfs`: the embedded block store, its RPC server and pinning.
#[derive(Subcommand, Debug)]
pub enum IpfsCmd {
    /// Add a file (usually already encrypted) and print its CID.
    Add {
        /// The file to add.
        file: PathBuf,
    },
    /// Write the file under CID to FILE.
    Cat {
        /// The file's CID.
        #[arg(value_parser = cid)]
        cid: Cid,
        /// Where to write the file.
        #[arg(short, long)]
        output: PathBuf,
    },
    /// Write the DAG under CID as a CARv1 file.
    Export {
        /// The DAG's root CID.
        #[arg(value_parser = cid)]
        cid: Cid,
        /// Where to write the CAR file.
        #[arg(short, long)]
        output: PathBuf,
    },
    /// Import a CARv1 file (every block checked); prints its root.
    Import {
        /// The CAR file to import.
        car: PathBuf,
    },
    /// Serve kubo's RPC API (the part a browser app uses) over the embedded store on
    /// loopback, and with --web the built app, until Ctrl-C or SIGTERM.
    Serve {
        /// Loopback address to listen on (port 0 picks a free one).
        #[arg(long, default_value = "127.0.0.1:5001", value_parser = listen)]
        listen: SocketAddr,
        /// An origin (scheme://host[:port]) other than this server's that may call it; repeatable.
        #[arg(long = "allow-origin", value_name = "URL")]
        allow_origin: Vec<String>,
        /// The built browser app (web/dist) to serve at /, with /careledger.json.
        #[arg(long, value_name = "DIR")]
        web: Option<PathBuf>,
        /// A careledger-notifier's base URL, for the app's configuration.
        #[arg(long, env = "CARELEDGER_NOTIFIER_URL", value_name = "URL", value_parser = NotifierUrl::parse)]
        notifier: Option<NotifierUrl>,
    },
    /// Ask a pinning service (IPFS Pinning Service API) to keep CID; the bearer
    /// token comes from CARELEDGER_PIN_TOKEN.
    Pin {
        /// The CID to pin.
        #[arg(value_parser = cid)]
        cid: Cid,
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

// The value parsers. Each argument of a kind goes through one of these at parse
// time, so a malformed one is refused by clap (exit status 2) before any work,
// and the commands get typed values. The types implement `FromStr` with the same
// grammar, for in-process callers (the demo, other crates' tests).

/// An account address: `0x` and 40 hex digits. All-lowercase or all-uppercase
/// hex carries no checksum and is taken as it is, as cast takes it; mixed case
/// is an EIP-55 checksum, and a wrong one means the address was mistyped or
/// altered on its way here, so it is refused rather than corrected.
pub fn address(s: &str) -> Result<Address, String> {
    use careledger_bindings::AddressError;
    // The expected spelling is never printed: copying it would accept the typo.
    careledger_bindings::parse_checked(s).map_err(|e| match e {
        AddressError::Malformed => format!("{} is {e}", crate::output::quote(s, 50)),
        AddressError::WrongChecksum => format!("{s} has a {e}"),
    })
}

/// A whole number in decimal (or `0x` hex), as record and token ids are written.
fn whole_number(s: &str) -> Option<U256> {
    let t = s.trim();
    // U256 also reads `0b`/`0o` prefixes and `_` separators: not what an id looks like.
    let digits = t.strip_prefix("0x").map_or_else(
        || !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()),
        |hex| !hex.is_empty() && hex.bytes().all(|b| b.is_ascii_hexdigit()),
    );
    digits.then(|| t.parse().ok()).flatten()
}

/// A record id: a positive whole number (the registry counts from 1).
pub fn record_id(s: &str) -> Result<U256, String> {
    match whole_number(s) {
        Some(id) if !id.is_zero() => Ok(id),
        _ => Err(format!(
            "{} is not a record id (a positive integer)",
            crate::output::quote(s, 40)
        )),
    }
}

/// A grant token id: a whole number of up to 256 bits.
pub fn token_id(s: &str) -> Result<U256, String> {
    whole_number(s).ok_or_else(|| {
        format!(
            "{} is not a token id (a whole number)",
            crate::output::quote(s, 40)
        )
    })
}

/// A CID (v0 `Qm…` or v1 `bafy…`).
pub fn cid(s: &str) -> Result<Cid, String> {
    s.trim()
        .parse()
        .map_err(|e| format!("{} is not a CID: {e}", crate::output::quote(s, 70)))
}

/// 32 bytes in hex, with or without 0x: a licence salt.
pub fn salt(s: &str) -> Result<B256, String> {
    let t = s.trim();
    let hex = t.strip_prefix("0x").unwrap_or(t);
    if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err("a licence salt is 32 bytes in hex (64 hex digits, 0x optional)".into());
    }
    hex.parse::<B256>()
        .map_err(|e| format!("licence salt: {e}"))
}

/// A category: a name (`lab`, `imaging`), or `0x` and 64 hex digits, a code as
/// it is on chain. A name reaches the chain only as the patient's own HMAC code
/// of it ([`Category::code`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Category {
    /// A name as the patient typed it, trimmed; coded only with their key.
    Name(String),
    /// A code as it is on chain, taken as it is.
    Code(B256),
}

impl Category {
    /// The `--category` value parser; empty and malformed `0x` codes are refused.
    pub fn parse(s: &str) -> Result<Self, String> {
        let t = s.trim();
        if t.is_empty() {
            return Err("a category name is empty (leave the option out for none)".into());
        }
        if let Some(hex) = t.strip_prefix("0x") {
            return hex.parse::<B256>().map(Self::Code).map_err(|_| {
                format!(
                    "{} is neither a category name nor a category code (0x and 64 hex digits)",
                    crate::output::quote(s, 70)
                )
            });
        }
        Ok(Self::Name(t.to_string()))
    }

    /// The code on chain: an explicit code as it is, a name as the HMAC code under a
    /// key derived from `reader`, the patient's X25519 key (see
    /// `careledger_vault::category`), so the chain sees nothing a dictionary recovers.
    pub fn code(&self, reader: &ReaderKeypair) -> B256 {
        match self {
            Self::Code(code) => *code,
            Self::Name(name) => B256::from(careledger_vault::category_code(reader, name)),
        }
    }
}

impl std::str::FromStr for Category {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Self::parse(s)
    }
}

/// The scope of a grant: `all`, `records:1,2,3` or `category:NAME`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Every record of the patient's.
    All,
    /// These records only, by their ids in the registry.
    Records(Vec<U256>),
    /// The patient's records of this category.
    Category(Category),
}

impl Scope {
    /// The `--scope` value parser.
    pub fn parse(s: &str) -> Result<Self, String> {
        let bad = || {
            format!(
                "{} is not a scope: expected `all`, `records:ID[,ID…]` or `category:NAME`",
                crate::output::quote(s, 40)
            )
        };
        let (kind, rest) = s.split_once(':').unwrap_or((s, ""));
        match kind.trim() {
            "all" if rest.is_empty() => Ok(Self::All),
            "records" => rest
                .split(',')
                .map(|id| record_id(id).map_err(|_| bad()))
                .collect::<Result<Vec<_>, _>>()
                .map(Self::Records),
            "category" if !rest.trim().is_empty() => Category::parse(rest).map(Self::Category),
            _ => Err(bad()),
        }
    }

    /// The scope kind the contract takes: 0 all, 1 listed records, 2 a category.
    pub fn kind(&self) -> u8 {
        match self {
            Self::All => 0,
            Self::Records(_) => 1,
            Self::Category(_) => 2,
        }
    }
}

impl std::str::FromStr for Scope {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Self::parse(s)
    }
}

/// A licence number as it is committed: surrounding whitespace removed and ASCII
/// letters upper-cased, so that "gmc-1 " and "GMC-1" are the same licence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Licence(String);

impl Licence {
    /// The `--licence` value parser: normalised, and refused if empty.
    pub fn parse(s: &str) -> Result<Self, String> {
        let normal = s.trim().to_ascii_uppercase();
        if normal.is_empty() {
            return Err("the licence number is empty".into());
        }
        Ok(Self(normal))
    }

    /// The normalised licence number, as it is committed to.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::str::FromStr for Licence {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Self::parse(s)
    }
}

impl std::fmt::Display for Licence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A notifier's confirmation code, in its canonical form (as typed it may have
/// any case, spaces and dashes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfirmCode(String);

impl ConfirmCode {
    /// The `notify confirm` value parser: a code of the notifier's alphabet and length.
    pub fn parse(s: &str) -> Result<Self, String> {
        careledger_contact::normalize_code(s)
            .map(Self)
            .ok_or_else(|| {
                format!(
                    "a confirmation code is {} letters and digits, as in the mail \
                 (no I, L, O, 0 or 1; case, spaces and dashes do not matter)",
                    careledger_contact::CODE_LENGTH
                )
            })
    }

    /// The canonical code, as the notifier compares it.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::str::FromStr for ConfirmCode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Self::parse(s)
    }
}

/// A notifier's base URL: http(s), without a trailing slash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotifierUrl(String);

impl NotifierUrl {
    /// The `--notifier` value parser: an http(s) URL, its trailing slashes dropped.
    pub fn parse(s: &str) -> Result<Self, String> {
        // The rule the app's configuration holds it to, and a URL the client can use.
        let base = crate::serve::notifier_url(s).map_err(|e| e.to_string())?;
        alloy::transports::http::reqwest::Url::parse(&base)
            .map_err(|_| format!("{} is not a URL", crate::output::quote(s, 70)))?;
        Ok(Self(base))
    }

    /// The base URL, without a trailing slash: paths are appended to it.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::str::FromStr for NotifierUrl {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Self::parse(s)
    }
}

impl std::fmt::Display for NotifierUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A JSON-RPC endpoint: an http URL, or https in a build with `--features tls`.
/// It keeps the text as given, which is what messages and the app's
/// configuration show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RpcUrl {
    text: String,
    url: alloy::transports::http::reqwest::Url,
}

impl RpcUrl {
    /// The `--rpc-url` value parser: https is refused in a build without TLS.
    pub fn parse(s: &str) -> Result<Self, String> {
        let url: alloy::transports::http::reqwest::Url = s
            .parse()
            .map_err(|_| format!("{} is not a URL", crate::output::quote(s, 70)))?;
        match url.scheme() {
            "http" => {}
            "https" if cfg!(feature = "tls") => {}
            "https" => {
                return Err(format!(
                    "{s}: https needs careledger built with `--features tls`"
                ))
            }
            other => {
                return Err(format!(
                    "{}: {other}:// is not an http(s) JSON-RPC endpoint",
                    crate::output::quote(s, 70)
                ))
            }
        }
        Ok(Self {
            text: s.to_string(),
            url,
        })
    }

    /// The endpoint as it was given, for messages and the app's configuration.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The endpoint parsed, for the HTTP transport.
    pub fn url(&self) -> &alloy::transports::http::reqwest::Url {
        &self.url
    }
}

impl std::str::FromStr for RpcUrl {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Self::parse(s)
    }
}

impl std::fmt::Display for RpcUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

/// A kubo-style IPFS node's RPC API (`--ipfs-api`).
pub fn ipfs_api(s: &str) -> Result<KuboClient, String> {
    KuboClient::new(s).map_err(|e| e.to_string())
}

/// `--listen`: a loopback address to serve on.
pub fn listen(s: &str) -> Result<SocketAddr, String> {
    crate::serve::loopback(s, "--listen").map_err(|e| e.to_string())
}

/// `--rpc-listen`: a loopback address for the demo's devnode.
pub fn rpc_listen(s: &str) -> Result<SocketAddr, String> {
    crate::serve::loopback(s, "--rpc-listen").map_err(|e| e.to_string())
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

impl std::str::FromStr for Expiry {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Self::parse(s)
    }
}

/// An expiry as the user may have written it: a duration in its largest whole
/// unit, a time in RFC 3339.
impl std::fmt::Display for Expiry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {
            Self::In(secs) => {
                let (unit, scale) = UNITS
                    .iter()
                    .rev()
                    .find(|(_, scale)| secs % scale == 0)
                    .copied()
                    .unwrap_or(('s', 1));
                write!(f, "{}{unit}", secs / scale)
            }
            Self::At(at) => f.write_str(&crate::output::time(at)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

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

    #[test]
    fn expiries_print_as_they_may_have_been_written() {
        assert_eq!(Expiry::parse("30d").unwrap().to_string(), "30d");
        assert_eq!(Expiry::parse("90m").unwrap().to_string(), "90m");
        assert_eq!(Expiry::parse("14d").unwrap().to_string(), "2w");
        assert_eq!(Expiry::parse("61s").unwrap().to_string(), "61s");
        assert_eq!(
            Expiry::parse("2030-01-01").unwrap().to_string(),
            "2030-01-01T00:00:00Z"
        );
    }

    #[test]
    fn record_and_token_ids_are_whole_numbers() {
        assert_eq!(record_id("1"), Ok(U256::from(1)));
        assert_eq!(record_id(" 42 "), Ok(U256::from(42)));
        assert_eq!(record_id("0x10"), Ok(U256::from(16)));
        for bad in [
            "0", "00", "", "zero", "-1", "1.0", "1e3", "0b1", "1_000", "0x",
        ] {
            let e = record_id(bad).unwrap_err();
            assert!(e.contains("not a record id"), "{bad:?}: {e}");
        }
        assert!(record_id(&"9".repeat(80)).is_err(), "over 256 bits");
        assert_eq!(token_id("0"), Ok(U256::ZERO));
        assert_eq!(token_id("7"), Ok(U256::from(7)));
        assert!(token_id("seven").unwrap_err().contains("not a token id"));
    }

    #[test]
    fn cids_salts_licences_and_codes_are_checked_as_typed() {
        let v1 = "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e";
        assert_eq!(cid(v1).unwrap().to_string(), v1);
        assert!(cid("not-a-cid").unwrap_err().contains("is not a CID"));

        let hex = "ab".repeat(32);
        assert_eq!(salt(&hex), Ok(B256::repeat_byte(0xab)));
        assert_eq!(salt(&format!("0x{hex}")), Ok(B256::repeat_byte(0xab)));
        assert!(salt("0x1234").unwrap_err().contains("32 bytes"));
        assert!(salt(&"zz".repeat(32)).is_err());

        assert_eq!(
            Licence::parse("  gmc-7654321\n").unwrap().as_str(),
            "GMC-7654321"
        );
        assert!(Licence::parse("  ").unwrap_err().contains("empty"));

        assert_eq!(
            ConfirmCode::parse("abcd-efgh ").unwrap().as_str(),
            "ABCDEFGH"
        );
        assert!(ConfirmCode::parse("0OIL1")
            .unwrap_err()
            .contains("8 letters and digits"));
    }

    #[test]
    fn scopes_and_categories_parse_and_bad_ones_are_named() {
        let key = ReaderKeypair::derive(b"a patient, 32 bytes or more.....");
        assert_eq!(Scope::parse("all"), Ok(Scope::All));
        assert_eq!(
            Scope::parse("records:1, 2"),
            Ok(Scope::Records(vec![U256::from(1), U256::from(2)]))
        );
        let lab = B256::from(careledger_vault::category_code(&key, "lab"));
        let Ok(Scope::Category(c)) = Scope::parse("category: Lab") else {
            panic!("a category scope")
        };
        assert_eq!(c.code(&key), lab);
        let explicit = format!("category:{}", B256::repeat_byte(7));
        assert_eq!(
            Scope::parse(&explicit),
            Ok(Scope::Category(Category::Code(B256::repeat_byte(7))))
        );
        assert_eq!(Scope::parse(&explicit).unwrap().kind(), 2);
        for bad in [
            "",
            "records:",
            "records:0",
            "records:x",
            "records:1,,2",
            "category:",
            "category:0x12",
            "everything",
            "all:records",
        ] {
            assert!(Scope::parse(bad).is_err(), "{bad:?}");
        }
        assert!(Scope::parse("records:").unwrap_err().contains("`all`"));
        assert_eq!(Category::parse(" Lab ").unwrap().code(&key), lab);
        assert!(Category::parse(" ").unwrap_err().contains("empty"));
        assert!(Category::parse("0x12")
            .unwrap_err()
            .contains("neither a category name nor a category code"));
    }

    #[test]
    fn urls_and_listening_addresses_are_checked_as_typed() {
        let rpc = RpcUrl::parse("http://127.0.0.1:8547").unwrap();
        // Kept as given: messages and the app's configuration show it so.
        assert_eq!(rpc.as_str(), "http://127.0.0.1:8547");
        assert!(RpcUrl::parse("not a url")
            .unwrap_err()
            .contains("not a URL"));
        assert!(RpcUrl::parse("ws://127.0.0.1:8547")
            .unwrap_err()
            .contains("not an http(s) JSON-RPC endpoint"));
        if !cfg!(feature = "tls") {
            assert!(RpcUrl::parse("https://example.org")
                .unwrap_err()
                .contains("--features tls"));
        }
        assert_eq!(
            NotifierUrl::parse("http://127.0.0.1:8600/")
                .unwrap()
                .as_str(),
            "http://127.0.0.1:8600"
        );
        for bad in ["127.0.0.1:8600", "ftp://x", "http://", "http://a b"] {
            assert!(NotifierUrl::parse(bad).is_err(), "{bad:?}");
        }
        assert!(ipfs_api("http://127.0.0.1:5001").is_ok());
        assert!(ipfs_api("not a url").is_err());
        assert_eq!(listen("localhost:0"), Ok("127.0.0.1:0".parse().unwrap()));
        assert!(listen("0.0.0.0:0").unwrap_err().contains("non-loopback"));
        assert!(rpc_listen("nowhere").unwrap_err().contains("--rpc-listen"));
    }

    /// Issue 17: malformed arguments are clap's usage errors (exit status 2,
    /// `invalid value … for '<ARG>'`), and well-formed ones arrive typed.
    #[test]
    fn malformed_arguments_are_usage_errors_before_any_work() {
        use clap::error::ErrorKind;
        Cli::command().debug_assert();
        let refused = |args: &[&str], says: &str| {
            let e = Cli::try_parse_from(std::iter::once("careledger").chain(args.iter().copied()))
                .unwrap_err();
            assert_eq!(e.kind(), ErrorKind::ValueValidation, "{args:?}: {e}");
            assert_eq!(e.exit_code(), 2, "{args:?}");
            let text = e.to_string();
            assert!(text.starts_with("error: invalid value"), "{text}");
            assert!(text.contains(says), "{args:?}: {text}");
        };
        let d = "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed";
        refused(&["grant", "0x12zz", "--expires", "1d"], "not an address");
        refused(
            &[
                "doctor",
                "status",
                "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD",
            ],
            "EIP-55",
        );
        refused(&["grant", d, "--expires", "1y"], "--expires");
        refused(
            &["grant", d, "--expires", "1d", "--scope", "records:"],
            "--scope",
        );
        refused(&["revoke", "seven"], "not a token id");
        refused(&["record", "get", "0", "-o", "o"], "not a record id");
        refused(&["record", "rekey", "x"], "not a record id");
        refused(&["record", "add", "f", "--category", "0x12"], "--category");
        refused(&["ipfs", "cat", "not-a-cid", "-o", "o"], "is not a CID");
        refused(
            &["ipfs", "pin", "bafy", "--service", "http://x"],
            "is not a CID",
        );
        refused(
            &[
                "doctor",
                "check-licence",
                d,
                "--licence",
                "L",
                "--salt",
                "0x12",
            ],
            "32 bytes",
        );
        refused(&["doctor", "register", "--licence", " "], "empty");
        refused(
            &[
                "notify",
                "confirm",
                "0OIL1",
                "--notifier",
                "http://127.0.0.1:1",
            ],
            "8 letters",
        );
        refused(
            &["notify", "remove", "--notifier", "mailto:x"],
            "--notifier",
        );
        refused(&["record", "list", "--rpc-url", "not a url"], "not a URL");
        refused(&["record", "list", "--ipfs-api", "not a url"], "--ipfs-api");
        refused(&["ipfs", "serve", "--listen", "0.0.0.0:0"], "non-loopback");
        refused(
            &["demo", "--web", ".", "--rpc-listen", "0.0.0.0:8547"],
            "--rpc-listen",
        );

        let cli = Cli::try_parse_from([
            "careledger",
            "grant",
            d,
            "--expires",
            "30d",
            "--scope",
            "records:1,2",
        ])
        .unwrap();
        let Command::Grant {
            doctor,
            scope,
            expires,
        } = cli.command
        else {
            panic!("grant")
        };
        assert_eq!(doctor, address(d).unwrap());
        assert_eq!(scope, Scope::Records(vec![U256::from(1), U256::from(2)]));
        assert_eq!(expires, Expiry::In(30 * 86_400));
        let cli = Cli::try_parse_from(["careledger", "grant", d, "--expires", "1d"]).unwrap();
        assert!(matches!(
            cli.command,
            Command::Grant {
                scope: Scope::All,
                ..
            }
        ));
    }
}
