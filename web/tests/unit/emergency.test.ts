import { describe, expect, it } from "vitest";
import { getAddress, type Address } from "viem";
import {
  CUSTODIAN_SENTENCE,
  EMERGENCY_REASONS,
  doctorOpenings,
  openerConfirmText,
  openingStatus,
  openings,
  parseCustodians,
  reasonText,
} from "../../src/emergency";
import type { LedgerEvent } from "../../src/ledger";

const P = "0x00000000000000000000000000000000000000aa" as Address;
const Q = "0x00000000000000000000000000000000000000bb" as Address;
const D = "0x00000000000000000000000000000000000000dd" as Address;
const E = "0x00000000000000000000000000000000000000ee" as Address;
const ev = (name: string, args: Record<string, unknown>, block: number): LedgerEvent => ({
  name,
  args,
  blockNumber: BigInt(block),
  logIndex: 0,
  tx: `0x${block.toString(16).padStart(64, "0")}`,
  address: P,
});

describe("reasons", () => {
  it("are the four codes of careledger_common::emergency_reason, in words", () => {
    expect(EMERGENCY_REASONS.map((r) => r.code)).toEqual([1, 2, 3, 4]);
    expect(reasonText(1)).toBe("the patient is unconscious or unable to consent");
    expect(reasonText(2)).toMatch(/life-threatening/);
    expect(reasonText(3)).toMatch(/cannot communicate/);
    expect(reasonText(4n)).toMatch(/other urgent treatment/);
    expect(reasonText(0)).toBe("unknown reason (code 0)");
    expect(reasonText(5)).toBe("unknown reason (code 5)");
  });
});

describe("custodians", () => {
  it("are read from addresses separated by commas, spaces or lines", () => {
    expect(parseCustodians("", P)).toEqual([]);
    expect(parseCustodians(` ${D.toUpperCase().replace("0X", "0x")},\n${E} `, P)).toEqual([getAddress(D), getAddress(E)]);
  });
  it("are at most four, distinct, addresses, and never the patient", () => {
    const five = ["01", "02", "03", "04", "05"].map((x) => `0x${"0".repeat(38)}${x}`).join(",");
    expect(() => parseCustodians(five, P)).toThrow(/at most 4 custodians \(you named 5\)/);
    expect(() => parseCustodians(`${D} ${D}`, P)).toThrow(/listed twice/);
    expect(() => parseCustodians(`${P}`, P)).toThrow(/your own emergency custodian/);
    expect(() => parseCustodians("0x12", P)).toThrow(/"0x12" is not an address/);
  });
  it("are explained in one sentence", () => {
    expect(CUSTODIAN_SENTENCE).toMatch(/release your record keys to a verified doctor in an emergency when you cannot act/);
    expect(CUSTODIAN_SENTENCE).toMatch(/without one, break-glass .* is off/);
  });
});

describe("openings", () => {
  const events = [
    ev("EmergencyAccess", { patient: P, doctor: D, expiresAt: 100n, reason: 1 }, 1),
    ev("EmergencyAccess", { patient: P, doctor: E, expiresAt: 200n, reason: 3 }, 2),
    ev("EmergencyAccess", { patient: Q, doctor: D, expiresAt: 250n, reason: 4 }, 3),
    ev("EmergencyAccessClosed", { patient: P, doctor: D, barredUntil: 9_000n }, 4),
    ev("EmergencyBarLifted", { patient: P, doctor: D }, 5),
    ev("EmergencyAccess", { patient: P, doctor: E, expiresAt: 300n, reason: 2 }, 6),
    ev("EmergencyAccessClosed", { patient: P, doctor: E, barredUntil: 9_500n }, 7),
  ];
  it("keep each doctor's latest opening on the patient and what the patient did since", () => {
    expect(openings(events, P)).toEqual([
      { patient: P, doctor: D, reason: 1, expiresAt: 100n, closedBarredUntil: 9_000n, barLifted: true, block: 1n },
      { patient: P, doctor: E, reason: 2, expiresAt: 300n, closedBarredUntil: 9_500n, barLifted: false, block: 6n },
    ]);
  });
  it("are seen from the doctor's side too", () => {
    expect(doctorOpenings(events, D).map((o) => [o.patient, o.reason, o.closedBarredUntil])).toEqual([
      [P, 1, 9_000n],
      [Q, 4, null],
    ]);
  });
  it("are described by where they stand now", () => {
    const base = { windowOpen: false, open: false, barredUntil: 0n, closedBarredUntil: null, barLifted: false };
    expect(openingStatus({ ...base, windowOpen: true, open: true })).toBe("open");
    expect(openingStatus({ ...base, windowOpen: true })).toMatch(/not verified now/);
    expect(openingStatus({ ...base, barredUntil: 1893456000n, closedBarredUntil: 1893456000n })).toBe(
      "closed by you; barred until 2030-01-01T00:00:00Z",
    );
    expect(openingStatus({ ...base, closedBarredUntil: 5n, barLifted: true })).toBe("closed by you; bar lifted");
    expect(openingStatus(base)).toBe("ended");
  });
  it("are confirmed by the patient in words that name the doctor and the reason", () => {
    const text = openerConfirmText({ doctor: D, reason: 2, expiresAt: 1893456000n });
    expect(text).toContain(D);
    expect(text).toContain("a life-threatening condition needs the patient's history now");
    expect(text).toContain("2030-01-01T00:00:00Z");
    expect(text).toMatch(/Wrap your record keys for this doctor now\?/);
  });
});
