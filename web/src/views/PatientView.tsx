// The patient: register, upload records, grant and revoke doctors, name the
// emergency custodians and watch break-glass openings, share keys (with a doctor
// who opened break-glass only after a confirmation naming them), register an
// address for the notifier's alerts (break-glass openings, custodian key releases),
// and read the audit trail.
import { useEffect, useState } from "react";
import { getAddress, isAddress, type Address } from "viem";
import { auditTrail } from "../audit";
import { CUSTODIAN_SENTENCE, MAX_CUSTODIANS, openerConfirmText, openingStatus, parseCustodians, reasonText } from "../emergency";
import { UserFacingError } from "../errors";
import { categoryCoder, grantStatusText, type EmergencyRow, type GrantRow, type RecordRow } from "../ledger";
import { categoryCode, categoryLabel, formatTime, parseExpiry, parseScope, shortAddress, type CategoryCoder } from "../scope";
import { useSession } from "../session";
import { createKey } from "./KeyPanel";
import { NoticeContact, type Mailed } from "./NoticeContact";
import { OpenButton } from "./OpenButton";

/** What re-encryption can and cannot do, wherever the page offers it. */
export const REKEY_LIMIT =
  "Re-encryption protects later versions only: a reader who already had a key keeps it for the versions it could open.";

/** The largest record the page encrypts in memory; the CLI streams larger ones. */
export const MAX_UPLOAD = 64 << 20;

export function PatientView() {
  const s = useSession();
  const [mailed, setMailed] = useState<Mailed | null>(null);
  if (!s.role.isPatient) return <RegisterPatient />;
  return (
    <div className="view" data-testid="patient-view">
      <Upload />
      <Records />
      <Grant />
      <Grants />
      <EmergencyPanel />
      <NoticeContact audience="patient" mailed={mailed} setMailed={setMailed} />
      <Doctors />
      <Audit />
    </div>
  );
}

function RegisterPatient() {
  const s = useSession();
  const [pass, setPass] = useState("");
  const register = () =>
    s.run("Registering you as a patient", async () => {
      const pub = createKey(s, pass);
      await s.ledger.registerPatient(pub);
      return "Registered as a patient. Your key is kept in this browser, locked with your passphrase.";
    });
  return (
    <section className="view" data-testid="patient-register">
      <h2>Register as a patient</h2>
      <p>A new encryption key is made in this browser and locked with your passphrase; only its public half goes on chain.</p>
      <label>
        Passphrase <input type="password" value={pass} onChange={(e) => setPass(e.target.value)} data-testid="patient-passphrase" />
      </label>
      <button onClick={register} data-testid="register-patient">Register</button>
    </section>
  );
}

function needSecret(secret: Uint8Array | null): Uint8Array {
  if (!secret) throw new UserFacingError("Unlock your key first (passphrase above).");
  return secret;
}

function Upload() {
  const s = useSession();
  const [file, setFile] = useState<File | null>(null);
  const [category, setCategory] = useState("");
  const upload = () =>
    s.run("Encrypting and uploading", async () => {
      const secret = needSecret(s.secret);
      if (!file) throw new UserFacingError("Choose a file first.");
      if (file.size > MAX_UPLOAD) throw new UserFacingError(`The page encrypts files up to ${MAX_UPLOAD >> 20} MiB; use the CLI for larger ones.`);
      const bytes = new Uint8Array(await file.arrayBuffer());
      const r = await s.ledger.addRecord(bytes, categoryCode(category, categoryCoder(secret)), s.progress);
      const custodians = r.custodians ? `, ${r.custodians} of them your emergency custodian(s)` : "";
      return `Record ${r.id} (version ${r.version}) stored as ${r.cid}; its key is wrapped for ${r.readers.length} reader(s) (you${custodians} and the doctors your grants cover).`;
    });
  return (
    <section>
      <h2>Add a record</h2>
      <input type="file" onChange={(e) => setFile(e.target.files?.[0] ?? null)} data-testid="record-file" />
      <label>
        Category <input value={category} placeholder="lab, imaging… (optional)" onChange={(e) => setCategory(e.target.value)} data-testid="record-category" />
      </label>
      <button onClick={upload} data-testid="upload-record">Encrypt and upload</button>
      <p className="hint">Encrypted here before it leaves this page; the chain holds only the CID and the ciphertext's hash.</p>
    </section>
  );
}

function Records() {
  const s = useSession();
  const [rows, setRows] = useState<RecordRow[]>([]);
  const rekey = (id: bigint) =>
    s.run(`Re-encrypting record ${id}`, async () => {
      const r = await s.ledger.rekey(id, needSecret(s.secret), s.progress);
      return `Record ${id} version ${r.version}: re-encrypted under a new key for ${r.readers.length} reader(s). ${REKEY_LIMIT}`;
    });
  useEffect(() => {
    s.ledger.records().then(setRows, () => setRows([]));
  }, [s.ledger, s.tick]);
  // Category codes are the patient's own: shown as names once the key is unlocked.
  const coder = s.secret ? categoryCoder(s.secret) : undefined;
  return (
    <section>
      <h2>My records</h2>
      <table data-testid="records-table">
        <thead>
          <tr><th>id</th><th>version</th><th>CID</th><th>category</th><th>added</th><th /></tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={String(r.id)} data-testid={`record-${r.id}`}>
              <td>{String(r.id)}</td><td>{r.version}</td><td className="mono">{r.cid}</td>
              <td data-testid={`record-category-${r.id}`}>{categoryLabel(r.category, coder)}</td><td>{formatTime(r.addedAt)}</td>
              <td>
                <OpenButton id={r.id} />
                <button onClick={() => rekey(r.id)} data-testid={`rekey-${r.id}`} title={`A new version under a new key, for the readers allowed now. ${REKEY_LIMIT}`}>
                  Re-encrypt
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {rows.length === 0 ? <p className="hint">No records yet.</p> : <p className="hint">{REKEY_LIMIT}</p>}
    </section>
  );
}

function Grant() {
  const s = useSession();
  const [doctor, setDoctor] = useState("");
  const [scope, setScope] = useState("all");
  const [expires, setExpires] = useState("30d");
  const grant = () =>
    s.run("Granting access", async () => {
      const secret = needSecret(s.secret);
      if (!isAddress(doctor.trim(), { strict: false })) throw new UserFacingError(`"${doctor}" is not an address.`);
      const to = getAddress(doctor.trim());
      const at = parseExpiry(expires, await s.ledger.chainTime());
      const r = await s.ledger.grant(to, parseScope(scope), at, secret, s.progress);
      return `Granted ${shortAddress(to)} access until ${formatTime(at)} (grant ${r.tokenId}); ${r.shared.length} existing record(s) shared.`;
    });
  const sync = () =>
    s.run("Sharing keys", async () => {
      const r = await s.ledger.shareKeys(needSecret(s.secret), {
        progress: s.progress,
        // Never silently: a break-glass doctor gets keys from this page only by name.
        confirmOpener: (o) => globalThis.confirm(openerConfirmText(o)),
      });
      const withheld = r.withheld.length
        ? ` Not shared with ${r.withheld.map(shortAddress).join(", ")} (break-glass): only your emergency custodians can release keys to them.`
        : "";
      return `${r.shared.length} record(s) gained keys for your custodians and the doctors you allowed.${withheld}`;
    });
  return (
    <section>
      <h2>Grant a doctor</h2>
      <label>
        Doctor <input value={doctor} placeholder="0x…" onChange={(e) => setDoctor(e.target.value)} data-testid="grant-doctor" />
      </label>
      <label>
        Scope <input value={scope} onChange={(e) => setScope(e.target.value)} data-testid="grant-scope" title="all, records:1,2 or category:lab" />
      </label>
      <label>
        Expires <input value={expires} onChange={(e) => setExpires(e.target.value)} data-testid="grant-expiry" title="30d, 12h, 2027-01-31 or unix seconds" />
      </label>
      <button onClick={grant} data-testid="grant">Grant</button>
      <button
        onClick={sync}
        data-testid="sync-keys"
        title="Wrap your records' latest keys for your custodians and granted doctors who lack them; a doctor who opened break-glass only if you confirm that doctor by name"
      >
        Share keys
      </button>
    </section>
  );
}

function Grants() {
  const s = useSession();
  const [rows, setRows] = useState<GrantRow[]>([]);
  useEffect(() => {
    s.ledger.grants(s.account, false, s.events).then(setRows, () => setRows([]));
  }, [s.ledger, s.account, s.events]);
  const revoke = (id: bigint) => s.run(`Revoking grant ${id}`, async () => void (await s.ledger.revoke(id)));
  return (
    <section>
      <h2>Grants I gave</h2>
      <table data-testid="grants-table">
        <thead>
          <tr><th>grant</th><th>doctor</th><th>scope</th><th>expires</th><th>status</th><th /></tr>
        </thead>
        <tbody>
          {rows.map((g) => (
            <tr key={String(g.tokenId)} data-testid={`grant-${g.tokenId}`}>
              <td>{String(g.tokenId)}</td><td className="mono" title={g.doctor}>{shortAddress(g.doctor)}</td>
              <td>{scopeText(g, s.secret ? categoryCoder(s.secret) : undefined)}</td><td>{formatTime(g.expiresAt)}</td><td data-testid={`grant-status-${g.tokenId}`}>{grantStatusText(g.status)}</td>
              <td>{g.status === "active" && <button onClick={() => revoke(g.tokenId)} data-testid={`revoke-${g.tokenId}`}>Revoke</button>}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

/** A grant's scope in words; a category by name only with the patient's own
 * coder (`code`), else "category private". */
export function scopeText(g: Pick<GrantRow, "scopeKind" | "recordIds" | "category">, code?: CategoryCoder): string {
  if (g.scopeKind === 1) return `records ${g.recordIds.join(", ")}`;
  if (g.scopeKind === 2) return `category ${categoryLabel(g.category, code)}`;
  return "all records";
}

function EmergencyPanel() {
  const s = useSession();
  const [custodians, setCustodians] = useState<readonly Address[]>([]);
  const [text, setText] = useState("");
  const [rows, setRows] = useState<EmergencyRow[]>([]);
  // s.events is a new list on every refresh; an answer for older events is dropped.
  useEffect(() => {
    let gone = false;
    s.ledger.custodians().then(
      (c) => !gone && setCustodians(c),
      () => !gone && setCustodians([]),
    );
    s.ledger.emergencyState(s.account, s.events).then(
      (r) => !gone && setRows(r),
      () => !gone && setRows([]),
    );
    return () => {
      gone = true;
    };
  }, [s.ledger, s.account, s.events]);
  const save = () =>
    s.run("Saving your emergency custodians", async () => {
      let list: Address[];
      try {
        list = parseCustodians(text, s.account);
      } catch (e) {
        throw new UserFacingError((e as Error).message);
      }
      // New custodians get the keys of the records already there.
      const r = await s.ledger.setCustodians(list, list.length ? needSecret(s.secret) : null, s.progress);
      setText("");
      const removed = r.removed.length ? ` ${REMOVED_KEEP}` : "";
      if (list.length === 0) return `You have no emergency custodian now: break-glass access to your records is off.${removed}`;
      return `Emergency custodians saved: ${list.map(shortAddress).join(", ")}; ${r.shared.length} record(s) wrapped for the new one(s).${removed}`;
    });
  const close = (o: EmergencyRow) =>
    s.run(`Closing ${shortAddress(o.doctor)}'s emergency access`, async () => {
      const r = await s.ledger.closeEmergency(o.doctor);
      return (
        `Emergency access of ${shortAddress(o.doctor)} closed; that doctor is barred from break-glass on your records until ${formatTime(r.barredUntil)}. ` +
        "Keys already released stay with the doctor for the versions they open; re-encrypt a record to protect its later versions."
      );
    });
  const lift = (o: EmergencyRow) =>
    s.run(`Lifting the bar on ${shortAddress(o.doctor)}`, async () => {
      await s.ledger.liftEmergencyBar(o.doctor);
      return `The bar on ${shortAddress(o.doctor)} is lifted: that doctor may open emergency access to your records again.`;
    });
  return (
    <section data-testid="emergency-panel">
      <h2>Emergency access</h2>
      <p>{CUSTODIAN_SENTENCE}</p>
      {custodians.length ? (
        <ul data-testid="custodians-list">
          {custodians.map((c) => (
            <li key={c} className="mono">{c}</li>
          ))}
        </ul>
      ) : (
        <p className="hint" data-testid="no-custodians">You named no custodian: break-glass access to your records is off.</p>
      )}
      <label>
        Custodians{" "}
        <input
          value={text}
          placeholder={`0x…, 0x… (up to ${MAX_CUSTODIANS}; empty turns break-glass off)`}
          onChange={(e) => setText(e.target.value)}
          data-testid="custodians-input"
        />
      </label>
      <button onClick={save} data-testid="save-custodians" title="Replaces the whole list; each custodian needs a CareLedger encryption key">
        Save custodians
      </button>
      <h3>Doctors who opened emergency access</h3>
      {rows.length === 0 ? (
        <p className="hint">No doctor ever opened emergency access to your records.</p>
      ) : (
        <table data-testid="emergency-table">
          <thead>
            <tr><th>doctor</th><th>reason</th><th>until</th><th>status</th><th /></tr>
          </thead>
          <tbody>
            {rows.map((o) => {
              const id = o.doctor.toLowerCase();
              return (
                <tr key={o.doctor} data-testid={`emergency-${id}`}>
                  <td className="mono" title={o.doctor}>{shortAddress(o.doctor)}</td>
                  <td>{reasonText(o.reason)}</td>
                  <td>{formatTime(o.expiresAt)}</td>
                  <td data-testid={`emergency-status-${id}`}>{openingStatus(o)}</td>
                  <td>
                    {o.windowOpen && (
                      <button className="danger" onClick={() => close(o)} data-testid={`close-emergency-${id}`} title="Ends the window now and bars this doctor from break-glass on your records for 30 days">
                        Close (bars them for 30 days)
                      </button>
                    )}
                    {o.barredUntil > 0n && (
                      <button onClick={() => lift(o)} data-testid={`lift-bar-${id}`}>Lift bar</button>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </section>
  );
}

const REMOVED_KEEP =
  "A custodian you remove keeps the keys it already holds; re-encrypt a record to protect its later versions (re-encryption protects later versions only).";

function Doctors() {
  const s = useSession();
  const [rows, setRows] = useState<{ address: Address; status: string }[]>([]);
  useEffect(() => {
    s.ledger.doctors(s.events).then(setRows, () => setRows([]));
  }, [s.ledger, s.events]);
  return (
    <section>
      <h2>Doctors</h2>
      <ul data-testid="doctors-list">
        {rows.map((d) => (
          <li key={d.address} className="mono">
            {d.address} — <span className={`badge ${d.status}`}>{d.status}</span>
          </li>
        ))}
      </ul>
    </section>
  );
}

function Audit() {
  const s = useSession();
  const rows = auditTrail(s.events, s.account);
  return (
    <section>
      <h2>Audit trail</h2>
      <table data-testid="audit-table">
        <thead>
          <tr><th>block</th><th>event</th><th>who</th><th>what</th></tr>
        </thead>
        <tbody>
          {rows.map((r, i) => (
            <tr key={`${r.tx}-${i}`} className={r.kind.replace(" ", "-")}>
              <td>{String(r.block)}</td><td>{r.kind}</td><td className="mono" title={r.who}>{shortAddress(r.who)}</td><td>{r.detail}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
