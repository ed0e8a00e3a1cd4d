// The user's X25519 secret in this browser, locked with a passphrase (scrypt and
// XChaCha20-Poly1305, in the vault). One per account, chain and deployment.
import type { Address } from "viem";

export interface KeyStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

export function keySlot(chainId: number, registry: Address, account: Address): string {
  return `careledger/x25519/${chainId}/${registry.toLowerCase()}/${account.toLowerCase()}`;
}

export class Keystore {
  constructor(private readonly storage: KeyStorage) {}

  load(slot: string): string | null {
    return this.storage.getItem(slot);
  }

  /** Refuses to overwrite: a lost secret is lost records. */
  save(slot: string, locked: string): void {
    if (this.storage.getItem(slot) !== null) throw new Error("this browser already holds a key for this account");
    this.storage.setItem(slot, locked);
  }
}
