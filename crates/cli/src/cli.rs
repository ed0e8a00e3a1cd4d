//! The command line: verbs that read as English, options shared by all of them.

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
        doctor: String,
        /// `all`, `records:ID[,ID…]` or `category:NAME` (coded with your key, as `record add` does).
        #[arg(long, default_value = "all")]
        scope: String,
        /// `30d`, `12h`, `2027-01-31`, an RFC 3339 time or unix seconds.
        #[arg(long)]
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
    Verify { doctor: String },
    /// Suspend a doctor (verifiers only).
    Suspend { doctor: String },
    /// Whether an account is a registered, verified or suspended doctor.
    Status { doctor: String },
}

#[derive(Subcommand, Debug)]
pub enum VerifierCmd {
    Add {
        verifier: String,
    },
    Remove {
        verifier: String,
    },
    /// Set how many distinct verifiers must approve a doctor (owner only; 1 to 8).
    Threshold {
        threshold: u8,
    },
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
    List { patient: Option<String> },
    /// Log the read on chain, fetch, verify and decrypt a record into FILE.
    Get {
        id: String,
        #[arg(short, long)]
        output: PathBuf,
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
        #[arg(long = "confirm-emergency", value_name = "DOCTOR")]
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
        patient: String,
        #[arg(long, value_enum)]
        reason: Reason,
    },
    /// Close a doctor's emergency access to your records; it bars that doctor from
    /// re-opening on you for 30 days.
    Close { doctor: String },
    /// Lift your bar on a doctor early.
    Lift { doctor: String },
    /// Your emergency custodians: accounts with a registered key who can release
    /// your record keys to a doctor in an emergency. None: break-glass is off.
    #[command(subcommand)]
    Custodians(CustodiansCmd),
    /// A patient's emergency policy: custodians, open windows, bars, the daily limit.
    Status {
        /// Defaults to the signing account.
        patient: Option<String>,
    },
    /// Set how many windows a doctor may open per rolling day (registry owner; 0 to 16).
    Limit { limit: u8 },
}

#[derive(Subcommand, Debug)]
pub enum CustodiansCmd {
    /// Name up to 4 custodians (replaces the list) and wrap your records' keys for them.
    Set {
        #[arg(required = true, num_args = 1..)]
        custodians: Vec<String>,
    },
    /// Remove every custodian: break-glass is off for you.
    Clear,
    /// List a patient's custodians (default: you).
    Show { patient: Option<String> },
}

#[derive(Subcommand, Debug)]
pub enum CustodianCmd {
    /// Follow emergency windows on the patients who named you and release their
    /// record keys to each opener while its window is open, until Ctrl-C.
    Watch {
        /// Seconds between looks at the chain.
        #[arg(long, default_value_t = 5)]
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
        /// Wait until the service reports it pinned (seconds).
        #[arg(long, default_value_t = 0)]
        wait: u64,
    },
}
