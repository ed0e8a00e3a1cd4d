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
        {locked && (
          <a
            href={`data:application/json;charset=utf-8,${encodeURIComponent(locked)}`}
            download={`careledger-key-${s.account.toLowerCase()}.json`}
            data-testid="backup-key"
            title="The key file stays locked with your passphrase; keep it: without it, this browser's records cannot be read elsewhere"
          >
            Back up my key
          </a>
        )}
      </section>
    );
  }
  if (!locked) return <ImportKey />;
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

/** A key file from `careledger keys export-web` or another browser's backup,
 * accepted only if it unlocks to the key registered on chain for this account. */
function ImportKey() {
  const s = useSession();
  const [file, setFile] = useState<File | null>(null);
  const [pass, setPass] = useState("");
  const importKey = () =>
    s.run("Importing your key", async () => {
      if (!file) throw new UserFacingError("Choose the key file first.");
      if (file.size > 4096) throw new UserFacingError("That is not a CareLedger key file (too large).");
      const text = await file.text();
      let secret: Uint8Array;
      try {
        secret = vault.unlockSecret(text, pass);
      } catch (e) {
        const m = String((e as Error)?.message ?? e);
        throw new UserFacingError(m.includes("wrong passphrase") ? "Wrong passphrase for this key file." : `That is not a CareLedger key file: ${m}`);
      }
      if (bytesToHex(vault.publicKey(secret)) !== s.role.encryptionKey.toLowerCase()) {
        throw new UserFacingError("This key file holds another key than the one registered on chain for this account.");
      }
      store().save(slot(s), text);
      s.setSecret(secret);
      setPass("");
      return "Key imported and unlocked; it is kept in this browser, locked with the file's passphrase.";
    });
  return (
    <section className="key warn" data-testid="key-missing">
      <p>
        This account's encryption key is not in this browser (it was registered from the CLI or another browser). Import its key
        file (<code>careledger keys export-web FILE</code>, or a backup from another browser) to read and share records here.
      </p>
      <input type="file" accept=".json,application/json" onChange={(e) => setFile(e.target.files?.[0] ?? null)} data-testid="import-key-file" />
      <label>
        Passphrase <input type="password" value={pass} onChange={(e) => setPass(e.target.value)} data-testid="import-key-passphrase" />
      </label>
      <button onClick={importKey} data-testid="import-key">Import key</button>
    </section>
  );
}
