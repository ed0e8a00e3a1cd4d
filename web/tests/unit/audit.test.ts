import { describe, expect, it } from "vitest";
import { auditTrail } from "../../src/audit";
import type { LedgerEvent } from "../../src/ledger";
import { Keystore, keySlot } from "../../src/keystore";

const P = "0x00000000000000000000000000000000000000aa";
const D = "0x00000000000000000000000000000000000000dd";
const ev = (name: string, args: Record<string, unknown>, block: number): LedgerEvent => ({
  name,
  args,
  blockNumber: BigInt(block),
  logIndex: 0,
  tx: `0x${block.toString(16).padStart(64, "0")}`,
  address: P,
});

describe("audit trail", () => {
  it("keeps the patient's grants, reads, revocations and emergencies only", () => {
    const events = [
      ev("AccessGranted", { tokenId: 1n, patient: P, doctor: D, expiresAt: 1893456000n, scopeKind: 1, recordIds: [3n, 4n] }, 5),
      ev("RecordAccessed", { recordId: 3n, patient: P, accessor: D, version: 1 }, 6),
      ev("AccessGranted", { tokenId: 2n, patient: D, doctor: P, expiresAt: 1n, scopeKind: 0 }, 7),
      ev("EmergencyAccess", { patient: P.toUpperCase().replace("0X", "0x"), doctor: D, expiresAt: 1893456000n, reason: 3 }, 8),
      ev("AccessRevoked", { tokenId: 1n, patient: P, doctor: D }, 9),
      ev("DoctorVerified", { doctor: D, verifier: P }, 10),
    ];
    const rows = auditTrail(events, P);
    expect(rows.map((r) => r.kind)).toEqual(["grant", "read", "emergency", "revoke"]);
    expect(rows[0].detail).toBe("grant 1: records 3, 4 until 2030-01-01T00:00:00Z");
    expect(rows[1]).toMatchObject({ who: D, detail: "read record 3 v1" });
  });
});

describe("audit trail of break-glass, custodians and approvals", () => {
  const C = "0x00000000000000000000000000000000000000c1";
  const V = "0x0000000000000000000000000000000000000071";
  const X = "0x00000000000000000000000000000000000000ee"; // a doctor this patient never dealt with
  it("names the reason, the bar, the lifted bar, each released key, the custodians and the approvals", () => {
    const events = [
      ev("DoctorApproved", { doctor: D, verifier: V, approvals: 1, threshold: 2 }, 1),
      ev("DoctorApproved", { doctor: X, verifier: V, approvals: 1, threshold: 2 }, 2),
      ev("EmergencyCustodiansSet", { patient: P, custodians: [C] }, 3),
      ev("EmergencyAccess", { patient: P, doctor: D, expiresAt: 1893456000n, reason: 1 }, 4),
      ev("EmergencyKeyReleased", { recordId: 2n, patient: P, doctor: D, custodian: C, version: 1 }, 5),
      ev("EmergencyAccessClosed", { patient: P, doctor: D, barredUntil: 1896048000n }, 6),
      ev("EmergencyBarLifted", { patient: P, doctor: D }, 7),
      ev("EmergencyCustodiansSet", { patient: P, custodians: [] }, 8),
      ev("EmergencyKeyReleased", { recordId: 9n, patient: D, doctor: P, custodian: C, version: 1 }, 9),
    ];
    const rows = auditTrail(events, P);
    expect(rows.map((r) => [r.kind, r.who, r.detail])).toEqual([
      ["approval", D, "licence approved by verifier 0x0000…0071 (1 of 2 needed)"],
      ["custodians", P, "emergency custodians named: 0x0000…00c1"],
      ["emergency", D, "break-glass access until 2030-01-01T00:00:00Z, because the patient is unconscious or unable to consent"],
      ["key released", D, "key of record 2 v1 released by custodian 0x0000…00c1"],
      ["emergency closed", D, "break-glass access closed by you; doctor barred until 2030-01-31T00:00:00Z"],
      ["bar lifted", D, "break-glass bar lifted by you"],
      ["custodians", P, "emergency custodians removed: break-glass is off"],
    ]);
  });
});

describe("keystore", () => {
  it("keeps one locked key per account and never overwrites it", () => {
    const m = new Map<string, string>();
    const ks = new Keystore({ getItem: (k) => m.get(k) ?? null, setItem: (k, v) => void m.set(k, v), removeItem: (k) => void m.delete(k) });
    const slot = keySlot(1, P, D);
    expect(slot).toBe(`careledger/x25519/1/${P}/${D}`);
    expect(ks.load(slot)).toBeNull();
    ks.save(slot, "locked");
    expect(() => ks.save(slot, "other")).toThrow(/already holds a key/);
    expect(ks.load(slot)).toBe("locked");
  });
});
