// The doctor's licence on chain is a salted commitment, never a plain hash:
// keccak256(abi.encodePacked("careledger/licence/v1", salt32, normalised licence)).
// Licence numbers can be enumerated, so keccak256(licence) would give them away; the
// 32-byte salt, handed by the doctor to the verifiers off chain, makes the commitment
// unguessable. The CLI computes the same value (crates/cli/src/cmd/roles.rs).
import { bytesToHex, concatHex, isHex, keccak256, stringToHex, type Hex } from "viem";

export const LICENCE_TAG = "careledger/licence/v1";

/** The licence as committed: whitespace around it removed, ASCII letters upper-cased. */
export function normaliseLicence(licence: string): string {
  return licence.trim().replace(/[a-z]/g, (c) => c.toUpperCase());
}

/** A fresh random 32-byte salt. */
export function newLicenceSalt(): Hex {
  return bytesToHex(globalThis.crypto.getRandomValues(new Uint8Array(32)));
}

/** A salt as typed: 32 bytes in hex, 0x optional; null if it is not one. */
export function parseLicenceSalt(salt: string): Hex | null {
  const s = salt.trim();
  const h = (s.startsWith("0x") || s.startsWith("0X") ? `0x${s.slice(2)}` : `0x${s}`).toLowerCase();
  return isHex(h, { strict: true }) && h.length === 66 ? (h as Hex) : null;
}

/** The commitment that goes on chain as the doctor's licenceHash. */
export function licenceCommitment(salt: Hex, licence: string): Hex {
  return keccak256(concatHex([stringToHex(LICENCE_TAG), salt, stringToHex(normaliseLicence(licence))]));
}

/** Whether `licence` with `salt` is the commitment `onChain`. */
export function licenceMatches(onChain: Hex, salt: Hex, licence: string): boolean {
  return licenceCommitment(salt, licence).toLowerCase() === onChain.toLowerCase();
}
