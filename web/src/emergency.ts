// Break-glass in words and from the chain's events: the reason codes a doctor
// gives (careledger_common::emergency_reason), the windows doctors opened on a
// patient, and the patient's list of emergency custodians.
import { getAddress, isAddress, type Address } from "viem";
import type { LedgerEvent } from "./ledger";
import { formatTime, same, shortAddress } from "./scope";

/** The reason codes `openEmergencyAccess` accepts, in the order a doctor picks them. */
export const EMERGENCY_REASONS = [
  { code: 1, label: "Unconscious or unable to consent", words: "the patient is unconscious or unable to consent" },
  { code: 2, label: "Life-threatening condition", words: "a life-threatening condition needs the patient's history now" },
  { code: 3, label: "Cannot communicate", words: "the patient cannot communicate (language, cognition, sedation)" },
  { code: 4, label: "Other urgent treatment", words: "another urgent treatment cannot wait for the patient's consent" },
] as const;

/** A reason code in words; an unknown code is named as such. */
export function reasonText(code: unknown): string {
  const n = Number(code);
  return EMERGENCY_REASONS.find((r) => r.code === n)?.words ?? `unknown reason (code ${String(code)})`;
}

/** The most a patient may name (PatientRegistry's TooManyCustodians beyond). */
export const MAX_CUSTODIANS = 4;

/** What a custodian is, in one sentence for the patient. */
export const CUSTODIAN_SENTENCE =
  "A custodian is someone you trust who can release your record keys to a verified doctor in an emergency when you cannot act yourself; without one, break-glass access to your records is off.";

/** A patient's custodians as typed: addresses separated by commas, spaces or
 * lines, at most four, distinct, none the patient. Empty turns break-glass off. */
export function parseCustodians(text: string, patient: Address): Address[] {
  const parts = text.split(/[\s,;]+/).filter((x) => x !== "");
  const out: Address[] = [];
  for (const p of parts) {
    if (!isAddress(p, { strict: false })) throw new Error(`"${p}" is not an address.`);
    const a = getAddress(p);
    if (same(a, patient)) throw new Error("You cannot be your own emergency custodian.");
    if (out.some((x) => same(x, a))) throw new Error(`${shortAddress(a)} is listed twice.`);
    out.push(a);
  }
  if (out.length > MAX_CUSTODIANS) throw new Error(`Name at most ${MAX_CUSTODIANS} custodians (you named ${out.length}).`);
  return out;
}

/** One doctor's latest break-glass opening on one patient, as the events tell it. */
export interface Opening {
  patient: Address;
  doctor: Address;
  reason: number;
  /** End of the window (exclusive), as opened. */
  expiresAt: bigint;
  /** Set once the patient closed it: the doctor is barred until then. */
  closedBarredUntil: bigint | null;
  /** The patient lifted the bar after closing. */
  barLifted: boolean;
  block: bigint;
}

/** The latest opening of each pair in which `who` is on `side`, with what the
 * patient did about it since, oldest first. */
function latestOpenings(events: LedgerEvent[], side: "patient" | "doctor", who: Address): Opening[] {
  const other = side === "patient" ? "doctor" : "patient";
  const byPair = new Map<string, Opening>();
  for (const e of events) {
    if (!same(e.args[side], who) || typeof e.args[other] !== "string") continue;
    const key = String(e.args[other]).toLowerCase();
    const prev = byPair.get(key);
    switch (e.name) {
      case "EmergencyAccess":
        byPair.delete(key); // a reopening moves to the end
        byPair.set(key, {
          patient: e.args.patient as Address,
          doctor: e.args.doctor as Address,
          reason: Number(e.args.reason),
          expiresAt: e.args.expiresAt as bigint,
          closedBarredUntil: null,
          barLifted: false,
          block: e.blockNumber,
        });
        break;
      case "EmergencyAccessClosed":
        if (prev) byPair.set(key, { ...prev, closedBarredUntil: e.args.barredUntil as bigint, barLifted: false });
        break;
      case "EmergencyBarLifted":
        if (prev) byPair.set(key, { ...prev, barLifted: true });
        break;
    }
  }
  return [...byPair.values()];
}

/** Every doctor who ever opened a window on `patient`, latest opening each. */
export function openings(events: LedgerEvent[], patient: Address): Opening[] {
  return latestOpenings(events, "patient", patient);
}

/** Every patient `doctor` ever opened a window on, latest opening each. */
export function doctorOpenings(events: LedgerEvent[], doctor: Address): Opening[] {
  return latestOpenings(events, "doctor", doctor);
}

/** The confirmation a patient must give before their own app wraps record keys
 * for a doctor who opened break-glass access: it names the doctor and the reason. */
export function openerConfirmText(o: Pick<Opening, "doctor" | "reason" | "expiresAt">): string {
  return [
    `Doctor ${o.doctor} opened emergency (break-glass) access to your records.`,
    `Reason given: ${reasonText(o.reason)}.`,
    `The window lasts until ${formatTime(o.expiresAt)}.`,
    "",
    "Normally only your emergency custodians release keys to such a doctor. Wrap your record keys for this doctor now? " +
      "A key once given cannot be taken back for the versions it opens.",
  ].join("\n");
}

/** Where a doctor's opening stands, in words, from the chain's view of it now. */
export function openingStatus(o: {
  windowOpen: boolean;
  open: boolean;
  barredUntil: bigint;
  closedBarredUntil: bigint | null;
  barLifted: boolean;
}): string {
  if (o.windowOpen) return o.open ? "open" : "open, but the doctor is not verified now";
  if (o.barredUntil > 0n) return `closed by you; barred until ${formatTime(o.barredUntil)}`;
  if (o.closedBarredUntil !== null) return o.barLifted ? "closed by you; bar lifted" : "closed by you; bar over";
  return "ended";
}
