// Who gets a record's key when the patient's own app wraps one: the patient,
// their emergency custodians and the doctors a live grant covers. A doctor who
// opened break-glass access gets one from the patient's app only when the patient
// confirmed it in a dialog naming that doctor; otherwise keys reach them through
// a custodian (`careledger custodian watch`), which the chain records.
import type { Address, Hex } from "viem";
import type { LedgerEvent } from "./ledger";
import { SCOPE_KIND, ZERO32, same } from "./scope";

/** A grant's terms as `AccessGranted` told them. */
export interface GrantTerms {
  tokenId: bigint;
  doctor: Address;
  expiresAt: bigint;
  scopeKind: number;
  category: Hex;
  recordIds: bigint[];
}

/** Grants `patient` gave and did not revoke (expired ones included: see grantCovers). */
export function unrevokedGrants(events: LedgerEvent[], patient: Address): GrantTerms[] {
  const revoked = new Set(events.filter((e) => e.name === "AccessRevoked").map((e) => String(e.args.tokenId)));
  return events
    .filter((e) => e.name === "AccessGranted" && same(e.args.patient, patient) && !revoked.has(String(e.args.tokenId)))
    .map((e) => ({
      tokenId: e.args.tokenId as bigint,
      doctor: e.args.doctor as Address,
      expiresAt: e.args.expiresAt as bigint,
      scopeKind: Number(e.args.scopeKind),
      category: e.args.category as Hex,
      recordIds: [...((e.args.recordIds as bigint[] | undefined) ?? [])],
    }));
}

/** Token ids whose `AccessRevoked` came from a new grant clearing the pair's expired
 * grants (AccessToken prunes them, each with AccessRevoked, before the new grant's
 * AccessGranted in the same transaction), not from the patient revoking them. */
export function prunedGrants(events: LedgerEvent[]): Set<string> {
  const grantsIn = new Map<string, LedgerEvent[]>();
  for (const e of events) {
    if (e.name !== "AccessGranted") continue;
    const key = `${e.blockNumber}:${e.tx}`;
    grantsIn.set(key, [...(grantsIn.get(key) ?? []), e]);
  }
  const out = new Set<string>();
  for (const e of events) {
    if (e.name !== "AccessRevoked") continue;
    const regrant = (grantsIn.get(`${e.blockNumber}:${e.tx}`) ?? []).some(
      (g) => g.logIndex > e.logIndex && same(g.args.patient, e.args.patient) && same(g.args.doctor, e.args.doctor),
    );
    if (regrant) out.add(String(e.args.tokenId));
  }
  return out;
}

/** Whether a grant covers record `id` of `category` at chain time `now`, as
 * AccessToken decides it (the doctor's verification aside). */
export function grantCovers(g: GrantTerms, id: bigint, category: Hex, now: bigint): boolean {
  if (g.expiresAt <= now) return false;
  if (g.scopeKind === SCOPE_KIND.all) return true;
  if (g.scopeKind === SCOPE_KIND.records) return g.recordIds.some((r) => r === id);
  return category.toLowerCase() !== ZERO32 && category.toLowerCase() === String(g.category).toLowerCase();
}

/** What the patient's app knows about one doctor and one record. */
export interface DoctorFacts {
  address: Address;
  /** A live grant covers the record and the chain lets the doctor read it. */
  byGrant: boolean;
  /** The doctor holds an open break-glass window (hasEmergencyAccess). */
  byEmergency: boolean;
}

/** Whom the patient's app wraps a record key for, in this order and once each:
 * the patient, the custodians, the doctors a grant covers, and a break-glass
 * opener only if the patient confirmed that doctor. */
export function keyRecipients(
  patient: Address,
  custodians: readonly Address[],
  doctors: readonly DoctorFacts[],
  confirmed: readonly Address[] = [],
): Address[] {
  const out: Address[] = [];
  const add = (a: Address) => {
    if (!out.some((x) => same(x, a))) out.push(a);
  };
  add(patient);
  custodians.forEach(add);
  for (const d of doctors) if (d.byGrant) add(d.address);
  for (const d of doctors) if (!d.byGrant && d.byEmergency && confirmed.some((c) => same(c, d.address))) add(d.address);
  return out;
}

/** The break-glass openers a record's key would go to only with the patient's
 * confirmation (those without a grant covering it). */
export function openersWithoutGrant(doctors: readonly DoctorFacts[]): Address[] {
  return doctors.filter((d) => d.byEmergency && !d.byGrant).map((d) => d.address);
}
