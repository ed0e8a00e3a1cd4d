// The account's X25519 key in this browser: unlock it with the passphrase, or
// learn that it lives elsewhere (the CLI derives its own from the keystore).
import { useState } from "react";
import { bytesToHex } from "viem";
import { UserFacingError } from "../errors";
import { Keystore, keySlot } from "../keystore";
import { ZERO32 } from "../scope";
import { useSession, type Session } from "../session";
import * as vault from "../vault";

const store = () => new Keystore(localStorage);
const slot = (s: Pick<Session, "cfg" | "account">) => keySlot(s.cfg.chainId, s.cfg.patientRegistry, s.account);

export const MIN_PASSPHRASE = 8;

/** A fresh key for registration, locked with `passphrase` and kept in this browser. */
export function createKey(s: Session, passphrase: string): Uint8Array {
  if (passphrase.length < MIN_PASSPHRASE) throw new UserFacingError(`Choose a passphrase of at least ${MIN_PASSPHRASE} characters.`);
  if (store().load(slot(s)) !== null) throw new UserFacingError("This browser already holds a key for this account: unlock it instead.");
  const secret = vault.generateSecret();
  store().save(slot(s), vault.lockSecret(secret, passphrase));
  s.setSecret(secret);
  return vault.publicKey(secret);
}

export function KeyPanel() {
  const s = useSession();
  const [pass, setPass] = useState("");
  const locked = store().load(slot(s));
  const registered = s.role.encryptionKey !== ZERO32;
  if (!registered) return null;
  if (s.secret) {
    const matches = bytesToHex(vault.publicKey(s.secret)) === s.role.encryptionKey.toLowerCase();
    return (
      <section className="key" data-testid="key-unlocked">
        {matches ? "Your record key is unlocked in this tab." : "Warning: the unlocked key is not the one registered on chain: records will not open."}
        <button onClick={() => s.setSecret(null)}>Lock</button>
      </section>
    );
  }
  if (!locked) {
    return (
      <section className="key warn" data-testid="key-missing">
        This account's encryption key is not in this browser (it was registered from the CLI or another browser): records cannot be
        decrypted or shared here.
      </section>
    );
  }
  const unlock = () =>
    s.run("Unlocking your key", async () => {
      try {
        s.setSecret(vault.unlockSecret(locked, pass));
      } catch (e) {
        throw new UserFacingError(String((e as Error)?.message ?? e).includes("wrong passphrase") ? "Wrong passphrase." : `The stored key cannot be read: ${(e as Error).message}`);
      }
      setPass("");
      return "Key unlocked";
    });
  return (
    <section className="key">
      <label>
        Passphrase <input type="password" value={pass} onChange={(e) => setPass(e.target.value)} data-testid="unlock-passphrase" />
      </label>
      <button onClick={unlock} data-testid="unlock">Unlock my key</button>
    </section>
  );
}
