// The salted licence commitment: the same test vector as the CLI's
// (crates/cli/src/cmd/roles.rs, licence_commitment_test_vector).
import { keccak256, toBytes } from "viem";
import { describe, expect, it } from "vitest";
import { licenceCommitment, licenceMatches, newLicenceSalt, normaliseLicence, parseLicenceSalt } from "../../src/licence";

const SALT = "0x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
const VECTOR = "0xa10365e352ff73dc7d9bd510a672496f424e8716a8b1b667e7c6234f8eecb2ff";

describe("licence commitment", () => {
  it("gives the same commitment as the CLI for the same salt and licence", () => {
    expect(licenceCommitment(SALT, "GMC-7654321")).toBe(VECTOR);
    expect(licenceCommitment(SALT, "  gmc-7654321\n")).toBe(VECTOR);
  });
  it("is not the plain hash of the licence, and depends on the salt", () => {
    expect(licenceCommitment(SALT, "GMC-7654321")).not.toBe(keccak256(toBytes("GMC-7654321")));
    expect(licenceCommitment(`0x${"00".repeat(32)}`, "GMC-7654321")).not.toBe(VECTOR);
    const a = newLicenceSalt();
    expect(a).toMatch(/^0x[0-9a-f]{64}$/);
    expect(newLicenceSalt()).not.toBe(a);
  });
  it("matches only the right licence with the right salt", () => {
    expect(licenceMatches(VECTOR, SALT, "GMC-7654321")).toBe(true);
    expect(licenceMatches(VECTOR.toUpperCase().replace("0X", "0x") as `0x${string}`, SALT, "GMC-7654321")).toBe(true);
    expect(licenceMatches(VECTOR, SALT, "GMC-7654322")).toBe(false);
    expect(licenceMatches(VECTOR, `0x${"01".repeat(32)}`, "GMC-7654321")).toBe(false);
  });
  it("reads salts with or without 0x and refuses anything else", () => {
    expect(parseLicenceSalt(SALT.slice(2))).toBe(SALT);
    expect(parseLicenceSalt(` ${SALT.toUpperCase().replace("0X", "0x")} `)).toBe(SALT);
    expect(parseLicenceSalt("0x1234")).toBeNull();
    expect(parseLicenceSalt("zz".repeat(32))).toBeNull();
    expect(normaliseLicence(" gmc-1 ")).toBe("GMC-1");
  });
});
