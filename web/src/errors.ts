// Every error a wallet, the chain or the vault returns, as one sentence a patient
// or a doctor can act on. viem decodes reverts against the generated ABIs; this
// names each custom error in words.
import { BaseError, ContractFunctionRevertedError, UserRejectedRequestError } from "viem";
import { formatTime, shortAddress } from "./scope";

type Args = readonly unknown[];
const a = (x: unknown) => (typeof x === "string" ? shortAddress(x) : String(x));

/** Custom errors of the three contracts, in words. */
const REVERTS: Record<string, (args: Args) => string> = {
  // PatientRegistry
  EnforcedPause: () =>
    "CareLedger is paused by the registry's owner: no new grants, verifications or emergency access until it resumes; try again later.",
  ExpectedPause: () => "The registry is not paused.",
  AlreadyRegistered: ([x]) => `${a(x)} is already registered.`,
  NotRegistered: ([x]) => `${a(x)} is not registered yet.`,
  InvalidEncryptionKey: () => "The encryption key is not a valid X25519 public key.",
  EncryptionKeyMismatch: () => "The encryption key does not match the one registered.",
  InvalidLicenceHash: () => "Enter a licence number: its hash cannot be empty.",
  NotVerifier: ([x]) => `${a(x)} is not an accredited verifier.`,
  UnknownDoctor: ([x]) => `${a(x)} is not a registered doctor.`,
  DoctorAlreadyVerified: ([x]) => `Doctor ${a(x)} is already verified.`,
  DoctorAlreadySuspended: ([x]) => `Doctor ${a(x)} is already suspended.`,
  SelfVerification: () => "A verifier cannot verify themselves.",
  InvalidVerifier: ([x]) => `${a(x)} cannot be a verifier.`,
  VerifierAlreadyAdded: ([x]) => `${a(x)} is already a verifier.`,
  UnknownVerifier: ([x]) => `${a(x)} is not a verifier.`,
  OwnableUnauthorizedAccount: ([x]) => `${a(x)} is not the owner of this contract.`,
  OwnableInvalidOwner: ([x]) => `${a(x)} cannot be the owner.`,
  OwnerCannotVerify: ([x]) => `${a(x)} is (or is about to become) the registry's owner, and the owner can never be a verifier.`,
  AlreadyApproved: ([d, v]) =>
    `Verifier ${a(v)} already approved doctor ${a(d)}: the doctor is verified once enough different verifiers approve.`,
  InvalidThreshold: ([n]) => `${n} is not a valid verification threshold: it must be between 1 and 8 verifiers.`,
  InvalidCustodian: ([x]) =>
    `${a(x)} cannot be an emergency custodian: it must be a registered account with an encryption key, not you, and listed once.`,
  TooManyCustodians: ([n]) => `You named ${n} emergency custodians: at most 4 are allowed.`,
  // AccessToken
  InvalidAddress: () => "That address is not valid here (the zero address?).",
  NotPatient: ([x]) => `${a(x)} is not a registered patient: register as a patient first.`,
  DoctorNotVerified: ([x]) => `Doctor ${a(x)} is not verified (or is suspended): only verified doctors can be granted access.`,
  InvalidGrantee: ([x]) => `${a(x)} cannot be granted access.`,
  InvalidExpiry: ([x]) => `The expiry ${formatTime(x as bigint)} is not valid: it must be in the future and within the allowed window.`,
  InvalidScope: ([x]) => `Scope kind ${x} is not valid.`,
  TooManyGrants: ([, d]) => `Too many active grants for doctor ${a(d)}: revoke one first.`,
  TooManyRecords: ([n]) => `A grant can name at most ${n} records.`,
  NotGrantor: ([x, t]) => `${a(x)} did not issue grant ${t}: only the patient who granted it can revoke it.`,
  NoEmergencyAccess: ([p, d]) => `Doctor ${a(d)} has no open emergency access to ${a(p)} (it was never opened, has ended, or the doctor is no longer verified).`,
  InvalidReason: ([r]) => `Emergency reason ${r} is not valid: choose one of the four reasons (1 to 4).`,
  NoEmergencyCustodian: ([p]) =>
    `Patient ${a(p)} named no emergency custodian, so break-glass access is off for them: nobody could release their record keys to you.`,
  EmergencyBarred: ([p, d, until]) =>
    `Patient ${a(p)} closed an earlier emergency access of doctor ${a(d)} and barred it until ${formatTime(until as bigint)}; only the patient can lift the bar.`,
  EmergencyLimitReached: ([d, n]) =>
    `Doctor ${a(d)} already opened ${n} emergency accesses in the last 24 hours, the most allowed; try again once the oldest is a day old.`,
  NotBarred: ([, d]) => `Doctor ${a(d)} is not barred from emergency access to your records.`,
  InvalidEmergencyLimit: ([n]) => `${n} is not a valid daily emergency limit: it must be between 0 and 16.`,
  NotRegistryOwner: ([x]) => `${a(x)} is not the registry owner.`,
  AlreadyLinked: () => "The record registry is already linked.",
  RegistryUnavailable: ([x]) => `The registry at ${a(x)} did not answer.`,
  TokenLocked: ([t]) => `Grant ${t} is bound to its doctor: access tokens cannot be transferred.`,
  ApprovalsDisabled: () => "Access tokens cannot be approved for transfer.",
  ERC721InvalidOwner: ([x]) => `${a(x)} cannot own tokens.`,
  ERC721NonexistentToken: ([t]) => `Grant ${t} does not exist.`,
  // RecordRegistry
  InvalidCid: () => "The record's CID is malformed.",
  InvalidContentHash: () => "The record's content hash is empty.",
  LengthMismatch: ([r, k]) => `${r} readers but ${k} wrapped keys.`,
  InvalidWrappedKey: ([x]) => `The key wrapped for ${a(x)} has the wrong length.`,
  UnknownRecord: ([id]) => `There is no record ${id}.`,
  UnknownVersion: ([id, v]) => `Record ${id} has no version ${v}.`,
  NotRecordOwner: ([x, id]) => `${a(x)} does not own record ${id}.`,
  AccessDenied: ([x, id]) => `Access denied: ${a(x)} has no valid grant for record ${id} (it was revoked, has expired, or never covered this record).`,
  NoWrappedKey: ([id, v, x]) =>
    `Record ${id} version ${v} has no key for ${a(x)} yet: the patient must share it, or after a break-glass opening one of their emergency custodians.`,
};

/** Thrown by the app itself with a message already meant for people. */
export class UserFacingError extends Error {}

export interface Described {
  message: string;
  /** A wallet on the wrong chain: the page offers to switch. */
  wrongNetwork?: boolean;
  rejected?: boolean;
}

export function describeRevert(name: string, args: Args = []): string {
  const f = REVERTS[name];
  return f ? f(args) : `The contract refused: ${name}(${args.map(String).join(", ")}).`;
}

function rpcCode(e: unknown): number | undefined {
  let cur: unknown = e;
  for (let i = 0; i < 8 && cur && typeof cur === "object"; i++) {
    const code = (cur as { code?: unknown }).code;
    if (typeof code === "number") return code;
    cur = (cur as { cause?: unknown }).cause;
  }
  return undefined;
}

export function describeError(e: unknown): Described {
  if (e instanceof UserFacingError) return { message: e.message };
  if (e instanceof BaseError) {
    const rejected = e.walk((x) => x instanceof UserRejectedRequestError);
    if (rejected) return { message: "You rejected the request in your wallet: nothing was sent.", rejected: true };
    const revert = e.walk((x) => x instanceof ContractFunctionRevertedError) as ContractFunctionRevertedError | null;
    if (revert) {
      if (revert.data?.errorName && revert.data.errorName !== "Error" && revert.data.errorName !== "Panic") {
        return { message: describeRevert(revert.data.errorName, revert.data.args ?? []) };
      }
      if (revert.reason) return { message: `The contract refused: ${revert.reason}` };
      return { message: "The contract refused the transaction without a reason." };
    }
    if (e.name === "ChainMismatchError" || e.walk((x) => (x as Error).name === "ChainMismatchError")) {
      return { message: "Your wallet is on another network.", wrongNetwork: true };
    }
    if (e.walk((x) => (x as Error).name === "InsufficientFundsError")) {
      return { message: "Your account has not enough ETH to pay for gas." };
    }
    if (e.walk((x) => (x as Error).name === "HttpRequestError")) {
      return { message: "The network could not be reached: is the node running?" };
    }
    return { message: e.shortMessage || e.message };
  }
  const code = rpcCode(e);
  if (code === 4001) return { message: "You rejected the request in your wallet: nothing was sent.", rejected: true };
  if (code === 4100) return { message: "Your wallet has not authorised this site: connect first." };
  if (code === 4902) return { message: "Your wallet does not know this network yet.", wrongNetwork: true };
  if (e instanceof Error) return { message: e.message };
  return { message: String(e) };
}
