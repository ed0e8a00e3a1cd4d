// The vault's WebAssembly build under node: the same code the page runs.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import * as vault from "../../src/vault";

const ctx = (recordId: bigint, patient = "0x00000000000000000000000000000000000000aa" as const): vault.RecordContext => ({
  chainId: 412346,
  registry: "0x0000000000000000000000000000000000000007",
  patient,
  recordId,
});

// toEqual walks a 600 KB array element by element (seconds); compare bytes at once.
const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

beforeAll(() => {
  vault.loadVaultSync(readFileSync(fileURLToPath(new URL("../../src/vault/pkg/careledger_vault_bg.wasm", import.meta.url))));
});

describe("vault in WebAssembly", () => {
  it("codes categories per patient, as the CLI does (careledger-vault's fixed vector)", () => {
    const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
    expect(hex(vault.categoryCode(new Uint8Array(32).fill(7), " Lab "))).toBe("b10b7936397cfc97c4dc2c2dbbb0abc5694d72dc5b4b97d3d6afe1db3c64e982");
    expect(hex(vault.categoryCode(new Uint8Array(32).fill(7), ""))).toBe("00".repeat(32));
    const other = vault.generateSecret();
    expect(hex(vault.categoryCode(other, "lab"))).not.toBe(hex(vault.categoryCode(new Uint8Array(32).fill(7), "lab")));
  });

  it("seals a record for two readers that each open it, and nobody else", () => {
    const patient = vault.generateSecret();
    const doctor = vault.generateSecret();
    const stranger = vault.generateSecret();
    const plain = new Uint8Array(600_000).map((_, i) => (i * 7) % 251);
    const s = vault.sealRecord(plain, ctx(1n), [vault.publicKey(patient), vault.publicKey(doctor)]);
    expect(s.cid).toMatch(/^bafy/);
    expect(s.blocks.length).toBe(4); // three 256 KiB raw leaves and their dag-pb root
    expect(s.blocks.filter((b) => b.codec === "raw").length).toBe(3);
    expect(s.blocks.some((b) => b.cid === s.cid && b.codec === "dag-pb")).toBe(true);
    const ciphertext = new Uint8Array(s.ciphertextLen);
    let at = 0;
    for (const b of s.blocks.filter((b) => b.codec === "raw")) {
      ciphertext.set(b.data, at);
      at += b.data.length;
    }
    expect(vault.ciphertextCid(ciphertext)).toBe(s.cid);
    expect(vault.cidToString(s.cidBytes)).toBe(s.cid);
    expect([...vault.cidFromString(s.cid)]).toEqual([...s.cidBytes]);
    for (const [i, secret] of [patient, doctor].entries()) {
      expect(same(vault.openRecord(ciphertext, s.wrappedKeys[i], secret, ctx(1n), s.sha256), plain)).toBe(true);
    }
    expect(() => vault.openRecord(ciphertext, s.wrappedKeys[1], stranger, ctx(1n), s.sha256)).toThrow(/not wrapped for you/);
    expect(() => vault.openRecord(ciphertext, s.wrappedKeys[1], doctor, ctx(2n), s.sha256)).toThrow(/not wrapped for you/);
    const tampered = ciphertext.slice();
    tampered[10] ^= 1;
    expect(() => vault.openRecord(tampered, s.wrappedKeys[1], doctor, ctx(1n), s.sha256)).toThrow(/does not match the hash/);
  });

  it("rewraps a record key for a newly granted doctor", () => {
    const patient = vault.generateSecret();
    const doctor = vault.generateSecret();
    const plain = new TextEncoder().encode("HbA1c 5.4 %");
    const s = vault.sealRecord(plain, ctx(3n), [vault.publicKey(patient)]);
    const forDoctor = vault.rewrapKey(s.wrappedKeys[0], patient, vault.publicKey(doctor), ctx(3n));
    const ciphertext = s.blocks[0].data;
    expect(new TextDecoder().decode(vault.openRecord(ciphertext, forDoctor, doctor, ctx(3n), s.sha256))).toBe("HbA1c 5.4 %");
    expect(() => vault.rewrapKey(s.wrappedKeys[0], doctor, vault.publicKey(doctor), ctx(3n))).toThrow();
  });

  it("locks the secret with a passphrase", () => {
    const secret = vault.generateSecret();
    const locked = vault.lockSecret(secret, "correct horse battery");
    expect(JSON.parse(locked)).toMatchObject({ version: 1, kdf: "scrypt" });
    expect(locked).not.toContain(Buffer.from(secret).toString("hex"));
    expect(vault.unlockSecret(locked, "correct horse battery")).toEqual(secret);
    expect(() => vault.unlockSecret(locked, "wrong horse")).toThrow(/wrong passphrase/);
    expect(() => vault.unlockSecret("{}", "x")).toThrow();
  });

  it("refuses malformed input with an error, not a crash", () => {
    expect(() => vault.cidFromString("not a cid")).toThrow();
    expect(() => vault.cidToString(new Uint8Array([1, 2, 3]))).toThrow();
    expect(() => vault.publicKey(new Uint8Array(5))).toThrow();
    expect(() => vault.sealRecord(new Uint8Array(1), ctx(1n), [new Uint8Array(31)])).toThrow(/32 bytes/);
  });
});
