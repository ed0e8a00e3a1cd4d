import { describe, expect, it } from "vitest";
import { keccak256, toBytes } from "viem";
import { categoryCode, categoryLabel, MAX_EXPIRY_AHEAD, parseExpiry, parseScope, scopeArgs, ZERO32, InputError } from "../../src/scope";

// A stand-in for the vault's per-patient HMAC (tested in vault.test.ts).
const coder = (n: string) => keccak256(toBytes(`patient-key/${n}`));

describe("scopes", () => {
  it("read as the CLI reads them", () => {
    expect(parseScope("all")).toEqual({ kind: "all" });
    expect(parseScope("records:1, 2")).toEqual({ kind: "records", ids: [1n, 2n] });
    expect(parseScope("category:lab")).toEqual({ kind: "category", code: "lab" });
    expect(scopeArgs(parseScope("category: Lab"), coder)).toEqual({ scopeKind: 2, category: coder("lab"), recordIds: [] });
    expect(scopeArgs(parseScope("records:7"), coder)).toEqual({ scopeKind: 1, category: ZERO32, recordIds: [7n] });
  });

  it("refuse what the contract would refuse, with the input named", () => {
    for (const bad of ["", "some", "all:x", "records:", "records:0", "records:1,x", "category:", "records:-1"]) {
      expect(() => parseScope(bad)).toThrow(InputError);
    }
    expect(() => parseScope("records:x")).toThrow(/records:x/);
  });
});

describe("categories", () => {
  it("are the patient's codes of normalised names, explicit bytes32 values as is", () => {
    expect(categoryCode(" LAB ", coder)).toBe(coder("lab"));
    expect(categoryCode(" lab ", coder)).not.toBe(keccak256(toBytes("lab")));
    expect(categoryCode("", coder)).toBe(ZERO32);
    const raw = `0x${"ab".repeat(32)}`;
    expect(categoryCode(raw, coder)).toBe(raw);
  });

  it("show as names only to the patient's own coder", () => {
    expect(categoryLabel(coder("hiv"), coder)).toBe("hiv");
    expect(categoryLabel(coder("podiatry"), coder)).toBe("private");
    expect(categoryLabel(coder("podiatry"), coder, ["Podiatry"])).toBe("podiatry");
    expect(categoryLabel(coder("hiv"))).toBe("private");
    expect(categoryLabel(keccak256(toBytes("hiv")), coder)).toBe("private");
    expect(categoryLabel(ZERO32, coder)).toBe("-");
  });
});

describe("expiries", () => {
  const now = 1_800_000_000n;
  it("take durations, dates and unix seconds", () => {
    expect(parseExpiry("30d", now)).toBe(now + 30n * 86400n);
    expect(parseExpiry("90m", now)).toBe(now + 5400n);
    expect(parseExpiry("2030-01-01T12:00:00Z", now)).toBe(1893499200n);
    expect(parseExpiry("12h", now)).toBe(now + 43200n);
    expect(parseExpiry("2030-01-01", now)).toBe(1893456000n);
    expect(parseExpiry(String(now + 5n), now)).toBe(now + 5n);
  });
  it("must lie in the future", () => {
    expect(() => parseExpiry("2020-01-01", now)).toThrow(/not in the future/);
    expect(() => parseExpiry("0", now)).toThrow(/not in the future/);
    expect(() => parseExpiry("soon", now)).toThrow(InputError);
    expect(() => parseExpiry("99999999999999999999999", now)).toThrow(/100 years/);
  });
  it("are written one strict way, as the CLI's --expires", () => {
    for (const odd of ["30d30d", "30 d", "90min", "3 fortnights", "1.5d", "-3d", "+3d", "2030-01-01 12:00", "2030-01-01T12:00:00+02:00"]) {
      expect(() => parseExpiry(odd, now), odd).toThrow(/expected a duration/);
    }
    expect(() => parseExpiry("0d", now)).toThrow(/zero/);
    expect(() => parseExpiry("2030-02-31", now)).toThrow(InputError);
  });
  it("end within 100 years", () => {
    expect(parseExpiry("36525d", now)).toBe(now + MAX_EXPIRY_AHEAD);
    expect(() => parseExpiry("36526d", now)).toThrow(/100 years/);
    expect(() => parseExpiry("99999999999d", now)).toThrow(/100 years/);
    expect(() => parseExpiry(String((1n << 64n) - 1n), now)).toThrow(/100 years/);
  });
});
