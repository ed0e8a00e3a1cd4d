// The patient: register, upload records, grant and revoke doctors, share keys
// after a break-glass opening, and read the audit trail.
import { useEffect, useState } from "react";
import { getAddress, isAddress, type Address } from "viem";
import { auditTrail } from "../audit";
import { UserFacingError } from "../errors";
import type { GrantRow, RecordRow } from "../ledger";
import { categoryHash, formatTime, parseExpiry, parseScope, shortAddress } from "../scope";
import { useSession } from "../session";
import { createKey } from "./KeyPanel";
import { OpenButton } from "./OpenButton";

/** The largest record the page encrypts in memory; the CLI streams larger ones. */
export const MAX_UPLOAD = 64 << 20;

export function PatientView() {
  const s = useSession();
  if (!s.role.isPatient) return <RegisterPatient />;
  return (
    <div className="view" data-testid="patient-view">
      <Upload />
      <Records />
      <Grant />
      <Grants />
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
      needSecret(s.secret);
      if (!file) throw new UserFacingError("Choose a file first.");
      if (file.size > MAX_UPLOAD) throw new UserFacingError(`The page encrypts files up to ${MAX_UPLOAD >> 20} MiB; use the CLI for larger ones.`);
      const bytes = new Uint8Array(await file.arrayBuffer());
      const r = await s.ledger.addRecord(bytes, categoryHash(category), s.progress);
      return `Record ${r.id} (version ${r.version}) stored as ${r.cid}; its key is wrapped for ${r.readers.length} reader(s).`;
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
      return `Record ${id} version ${r.version}: re-encrypted under a new key for ${r.readers.length} reader(s).`;
    });
  useEffect(() => {
    s.ledger.records().then(setRows, () => setRows([]));
  }, [s.ledger, s.tick]);
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
              <td className="mono">{r.category.slice(0, 10)}…</td><td>{formatTime(r.addedAt)}</td>
              <td>
                <OpenButton id={r.id} />
                <button onClick={() => rekey(r.id)} data-testid={`rekey-${r.id}`} title="After a revocation: a new version under a new key, for the readers allowed now">
                  Re-encrypt
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {rows.length === 0 && <p className="hint">No records yet.</p>}
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
      const shared = await s.ledger.syncKeys(needSecret(s.secret), s.progress);
      return `${shared.length} record(s) gained keys for doctors who may read them now.`;
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
      <button onClick={sync} data-testid="sync-keys" title="After a break-glass opening: wrap your records' keys for doctors who may read them now">
        Share keys with doctors who may read now
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
              <td>{scopeText(g)}</td><td>{formatTime(g.expiresAt)}</td><td data-testid={`grant-status-${g.tokenId}`}>{g.status}</td>
              <td>{g.status === "active" && <button onClick={() => revoke(g.tokenId)} data-testid={`revoke-${g.tokenId}`}>Revoke</button>}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

export function scopeText(g: Pick<GrantRow, "scopeKind" | "recordIds" | "category">): string {
  if (g.scopeKind === 1) return `records ${g.recordIds.join(", ")}`;
  if (g.scopeKind === 2) return `category ${g.category.slice(0, 10)}…`;
  return "all records";
}

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
          {rows.map((r) => (
            <tr key={`${r.tx}-${r.detail}`} className={r.kind.replace(" ", "-")}>
              <td>{String(r.block)}</td><td>{r.kind}</td><td className="mono" title={r.who}>{shortAddress(r.who)}</td><td>{r.detail}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
