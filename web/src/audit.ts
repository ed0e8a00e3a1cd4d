// A patient's audit trail from the chain's events: who was granted what, who
// read which record, every revocation and every break-glass opening.
import type { Address } from "viem";
import type { LedgerEvent } from "./ledger";
import { same } from "./ledger";
import { formatTime } from "./scope";

export interface AuditRow {
  block: bigint;
  tx: string;
  kind: "grant" | "revoke" | "emergency" | "emergency closed" | "read" | "record";
  who: Address;
  detail: string;
}

const SCOPES = ["all records", "listed records", "one category"];

export function auditTrail(events: LedgerEvent[], patient: Address): AuditRow[] {
  const rows: AuditRow[] = [];
  for (const e of events) {
    if (!same(e.args.patient, patient)) continue;
    const base = { block: e.blockNumber, tx: e.tx };
    const a = e.args;
    switch (e.name) {
      case "AccessGranted": {
        const ids = (a.recordIds as bigint[] | undefined) ?? [];
        const scope = Number(a.scopeKind) === 1 ? `records ${ids.join(", ")}` : SCOPES[Number(a.scopeKind)] ?? "unknown scope";
        rows.push({ ...base, kind: "grant", who: a.doctor as Address, detail: `grant ${a.tokenId}: ${scope} until ${formatTime(a.expiresAt as bigint)}` });
        break;
      }
      case "AccessRevoked":
        rows.push({ ...base, kind: "revoke", who: a.doctor as Address, detail: `grant ${a.tokenId} revoked` });
        break;
      case "EmergencyAccess":
        rows.push({ ...base, kind: "emergency", who: a.doctor as Address, detail: `break-glass access until ${formatTime(a.expiresAt as bigint)}` });
        break;
      case "EmergencyAccessClosed":
        rows.push({ ...base, kind: "emergency closed", who: a.doctor as Address, detail: "break-glass access closed" });
        break;
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
