// A patient's audit trail from the chain's events: who was granted what, who
// read which record, every revocation, every break-glass opening (with its
// reason), closing and lifted bar, every key a custodian released, the
// patient's custodians, and the verifiers' approvals of the doctors involved.
import type { Address } from "viem";
import { reasonText } from "./emergency";
import type { LedgerEvent } from "./ledger";
import { prunedGrants } from "./readers";
import { formatTime, same, shortAddress } from "./scope";

export type AuditKind =
  | "grant"
  | "revoke"
  | "emergency"
  | "emergency closed"
  | "bar lifted"
  | "key released"
  | "custodians"
  | "approval"
  | "read"
  | "record";

export interface AuditRow {
  block: bigint;
  tx: string;
  kind: AuditKind;
  who: Address;
  detail: string;
}

const SCOPES = ["all records", "listed records", "one category"];

/** The doctors an event of `patient`'s concerns (granted, opened, read, received a key). */
function doctorsOf(events: LedgerEvent[], patient: Address): Set<string> {
  const out = new Set<string>();
  for (const e of events) {
    if (!same(e.args.patient, patient)) continue;
    const d = e.args.doctor ?? e.args.accessor;
    if (typeof d === "string" && !same(d, patient)) out.add(d.toLowerCase());
  }
  return out;
}

export function auditTrail(events: LedgerEvent[], patient: Address): AuditRow[] {
  const rows: AuditRow[] = [];
  const doctors = doctorsOf(events, patient);
  const pruned = prunedGrants(events);
  for (const e of events) {
    const base = { block: e.blockNumber, tx: e.tx };
    const a = e.args;
    // Approvals name no patient: kept for the doctors this patient dealt with.
    if (e.name === "DoctorApproved") {
      if (typeof a.doctor === "string" && doctors.has(a.doctor.toLowerCase())) {
        rows.push({
          ...base,
          kind: "approval",
          who: a.doctor as Address,
          detail: `licence approved by verifier ${shortAddress(String(a.verifier))} (${a.approvals} of ${a.threshold} needed)`,
        });
      }
      continue;
    }
    if (!same(a.patient, patient)) continue;
    switch (e.name) {
      case "AccessGranted": {
        const ids = (a.recordIds as bigint[] | undefined) ?? [];
        const scope = Number(a.scopeKind) === 1 ? `records ${ids.join(", ")}` : SCOPES[Number(a.scopeKind)] ?? "unknown scope";
        rows.push({ ...base, kind: "grant", who: a.doctor as Address, detail: `grant ${a.tokenId}: ${scope} until ${formatTime(a.expiresAt as bigint)}` });
        break;
      }
      case "AccessRevoked":
        rows.push({
          ...base,
          kind: "revoke",
          who: a.doctor as Address,
          detail: pruned.has(String(a.tokenId)) ? `grant ${a.tokenId} ended: expired, cleared by a new grant` : `grant ${a.tokenId} revoked`,
        });
        break;
      case "EmergencyAccess":
        rows.push({
          ...base,
          kind: "emergency",
          who: a.doctor as Address,
          detail: `break-glass access until ${formatTime(a.expiresAt as bigint)}, because ${reasonText(a.reason)}`,
        });
        break;
      case "EmergencyAccessClosed":
        rows.push({
          ...base,
          kind: "emergency closed",
          who: a.doctor as Address,
          detail: `break-glass access closed by you; doctor barred until ${formatTime(a.barredUntil as bigint)}`,
        });
        break;
      case "EmergencyBarLifted":
        rows.push({ ...base, kind: "bar lifted", who: a.doctor as Address, detail: "break-glass bar lifted by you" });
        break;
      case "EmergencyKeyReleased":
        rows.push({
          ...base,
          kind: "key released",
          who: a.doctor as Address,
          detail: `key of record ${a.recordId} v${a.version} released by custodian ${shortAddress(String(a.custodian))}`,
        });
        break;
      case "EmergencyCustodiansSet": {
        const list = (a.custodians as readonly string[] | undefined) ?? [];
        rows.push({
          ...base,
          kind: "custodians",
          who: patient,
          detail: list.length
            ? `emergency custodians named: ${list.map(shortAddress).join(", ")}`
            : "emergency custodians removed: break-glass is off",
        });
        break;
      }
      case "RecordAccessed":
        rows.push({ ...base, kind: "read", who: a.accessor as Address, detail: `read record ${a.recordId} v${a.version}` });
        break;
      case "RecordAdded":
        rows.push({ ...base, kind: "record", who: patient, detail: `record ${a.recordId} v${a.version} added` });
        break;
    }
  }
  return rows;
}
