// The vault, compiled from crates/vault-wasm: the same encryption, key wrapping
// and CIDs as the CLI. Record keys stay inside the WebAssembly module.
import init, * as wasm from "./pkg/careledger_vault.js";
import { hexToBytes, type Address } from "viem";

let ready: Promise<void> | null = null;

/** Loads the module once (the browser fetches the .wasm next to the bundle). */
export function loadVault(): Promise<void> {
  ready ??= init().then(() => undefined);
  return ready;
}

/** For tests under node: the module from bytes already read. */
export function loadVaultSync(module: BufferSource): void {
  wasm.initSync({ module });
  ready = Promise.resolve();
}

/** What binds a ciphertext and its wrapped keys to one record of one deployment. */
export interface RecordContext {
  chainId: number;
  registry: Address;
  patient: Address;
  recordId: bigint;
}

function ctxArgs(c: RecordContext): [bigint, Uint8Array, Uint8Array, string] {
  return [BigInt(c.chainId), hexToBytes(c.registry), hexToBytes(c.patient), c.recordId.toString()];
}

export interface SealedBlock {
  cid: string;
  codec: "raw" | "dag-pb";
  data: Uint8Array;
}

export interface Sealed {
  cid: string;
  cidBytes: Uint8Array;
  sha256: Uint8Array;
  ciphertextLen: number;
  blocks: SealedBlock[];
  /** One per reader public key, in the order given. */
  wrappedKeys: Uint8Array[];
}

export const generateSecret = (): Uint8Array => wasm.generateSecret();
export const publicKey = (secret: Uint8Array): Uint8Array => wasm.publicKey(secret);
export const lockSecret = (secret: Uint8Array, passphrase: string): string => wasm.lockSecret(secret, passphrase);
export const unlockSecret = (locked: string, passphrase: string): Uint8Array => wasm.unlockSecret(locked, passphrase);
/** The patient's own 32-byte code of a category name (HMAC under a key derived
 * from its secret): what goes on chain instead of a guessable hash. */
export const categoryCode = (secret: Uint8Array, name: string): Uint8Array => wasm.categoryCode(secret, name);
export const cidToString = (bytes: Uint8Array): string => wasm.cidToString(bytes);
export const cidFromString = (s: string): Uint8Array => wasm.cidFromString(s);
export const ciphertextCid = (ciphertext: Uint8Array): string => wasm.ciphertextCid(ciphertext);

/** Encrypts `plaintext` for the record `ctx` with a fresh key wrapped for each reader. */
export function sealRecord(plaintext: Uint8Array, ctx: RecordContext, readerKeys: Uint8Array[]): Sealed {
  const keys = new Uint8Array(readerKeys.length * 32);
  readerKeys.forEach((k, i) => {
    if (k.length !== 32) throw new Error("a reader's public key must be 32 bytes");
    keys.set(k, i * 32);
  });
  const s = wasm.sealRecord(plaintext, ...ctxArgs(ctx), keys);
  try {
    const blocks: SealedBlock[] = [];
    for (let i = 0; i < s.blockCount; i++) {
      blocks.push({ cid: s.blockCid(i), codec: s.blockCodec(i) as "raw" | "dag-pb", data: s.blockData(i) });
    }
    return {
      cid: s.cid,
      cidBytes: s.cidBytes,
      sha256: s.sha256,
      ciphertextLen: s.ciphertextLen,
      blocks,
      wrappedKeys: readerKeys.map((_, i) => s.wrappedKey(i)),
    };
  } finally {
    s.free();
  }
}

/** Checks the ciphertext against the hash on chain, unwraps the key, decrypts. */
export function openRecord(
  ciphertext: Uint8Array,
  wrappedKey: Uint8Array,
  secret: Uint8Array,
  ctx: RecordContext,
  expectedSha256: Uint8Array,
): Uint8Array {
  return wasm.openRecord(ciphertext, wrappedKey, secret, ...ctxArgs(ctx), expectedSha256);
}

/** The record key, unwrapped with `mySecret`, wrapped again for `readerPublic`. */
export function rewrapKey(wrappedForMe: Uint8Array, mySecret: Uint8Array, readerPublic: Uint8Array, ctx: RecordContext): Uint8Array {
  return wasm.rewrapKey(wrappedForMe, mySecret, readerPublic, ...ctxArgs(ctx));
}
