// The doctor: register (a salted licence commitment, a contact email confirmed with
// the code the notifier mails to it), see grants received, open
// granted records (the read is logged on chain, then decrypted here), and
// break-glass emergency access with a reason (keys then come from the patient's
// emergency custodians).
import { useEffect, useState } from "react";
import { getAddress, isAddress, type Address, type Hex } from "viem";
import { registerContact } from "../contact";
import { EMERGENCY_REASONS, doctorOpenings, reasonText } from "../emergency";
import { UserFacingError, describeError } from "../errors";
import { grantStatusText, type GrantRow } from "../ledger";
import { licenceCommitment, newLicenceSalt, normaliseLicence } from "../licence";
import { formatTime, shortAddress } from "../scope";
import { useSession } from "../session";
import { createKey } from "./KeyPanel";
import { scopeText } from "./PatientView";
import { OpenButton } from "./OpenButton";
import { NoticeContact, registeredText, type Mailed } from "./NoticeContact";

/** The licence and salt of a registration, shown once to the doctor. */
interface IssuedSalt {
  licence: string;
  salt: Hex;
}

export function DoctorView() {
  const s = useSession();
  // Kept here, not in the form: the form goes away once the registration is on chain.
  const [issued, setIssued] = useState<IssuedSalt | null>(null);
  // The address the registration form had a code mailed to, for the notices panel.
  const [mailed, setMailed] = useState<Mailed | null>(null);
  const saltPanel = issued && <LicenceSalt issued={issued} done={() => setIssued(null)} />;
  if (s.role.doctorStatus === "none") {
    return (
      <>
        {saltPanel}
        <RegisterDoctor onIssued={setIssued} onMailed={setMailed} />
      </>
    );
  }
  return (
    <div className="view" data-testid="doctor-view">
      {saltPanel}
      <p>
        Status: <span className={`badge ${s.role.doctorStatus}`} data-testid="doctor-status">{s.role.doctorStatus}</span>
        {s.role.doctorStatus === "pending" && " — a verifier must verify your licence before patients can grant you access."}
      </p>
      <NoticeContact audience="doctor" mailed={mailed} setMailed={setMailed} />
      <Received />
      <OpenRecord />
      <Emergency />
    </div>
  );
}

/** The salt, shown once: the doctor hands it with the licence number to the verifiers. */
function LicenceSalt({ issued, done }: { issued: IssuedSalt; done: () => void }) {
  return (
    <section className="view" data-testid="licence-salt-panel">
      <h2>Your licence salt — save it now</h2>
      <p>
        Licence <span className="mono">{issued.licence}</span>, salt{" "}
        <span className="mono" data-testid="licence-salt">{issued.salt}</span>
      </p>
      <p className="hint">
        Only a salted commitment of your licence is on chain, so nobody can find your licence number by trying them all. Hand your
        licence number and this salt to the verifiers off chain (in person or by a private channel): they need both to check your
        licence. Never put the salt on chain and never give it to the notifier. This page shows it only once.
      </p>
      <button onClick={done} data-testid="licence-salt-saved">I have saved it</button>
    </section>
  );
}

function RegisterDoctor({ onIssued, onMailed }: { onIssued: (issued: IssuedSalt) => void; onMailed: (m: Mailed | null) => void }) {
  const s = useSession();
  const [pass, setPass] = useState("");
  const [licence, setLicence] = useState("");
  const [email, setEmail] = useState("");
  const register = () =>
    s.run("Registering you as a doctor", async () => {
      if (!licence.trim()) throw new UserFacingError("Enter your licence number.");
      const pub = createKey(s, pass);
      // Only the salted commitment goes on chain; the salt stays in this page until the
      // doctor saved it, and reaches the verifiers off chain with the licence number.
      const salt = newLicenceSalt();
      await s.ledger.registerDoctor(pub, licenceCommitment(salt, licence));
      onIssued({ licence: normaliseLicence(licence), salt });
      const salted = "Save your licence salt and hand it with your licence number to the verifiers, who must now verify you.";
      if (email.trim() && s.cfg.notifier) {
        const address = email.trim();
        // The registration is on chain already: a notifier that refuses the address
        // is reported, not turned into a failed registration.
        try {
          const r = await registerContact(s.cfg.notifier, s.ledger.wallet, s.account, s.cfg.chainId, s.cfg.patientRegistry, address);
          onMailed(r.status === "pending" ? { email: address, expiresAt: r.expiresAt } : null);
          return `Registered as a doctor. ${registeredText("doctor", address, r)} ${salted}`;
        } catch (e) {
          return `Registered as a doctor, but your address is not registered for notices: ${describeError(e).message} Register it again under "Notices by mail". ${salted}`;
        }
      }
      return `Registered as a doctor. ${salted}`;
    });
  return (
    <section className="view" data-testid="doctor-register">
      <h2>Register as a doctor</h2>
      <label>
        Licence number <input value={licence} onChange={(e) => setLicence(e.target.value)} data-testid="doctor-licence" />
      </label>
      <label>
        Contact email{" "}
        <input
          value={email}
          disabled={!s.cfg.notifier}
          placeholder={s.cfg.notifier ? "you@clinic.example" : "no notifier configured"}
          onChange={(e) => setEmail(e.target.value)}
          data-testid="doctor-email"
        />
      </label>
      <label>
        Passphrase <input type="password" value={pass} onChange={(e) => setPass(e.target.value)} data-testid="doctor-passphrase" />
      </label>
      <button onClick={register} data-testid="register-doctor">Register</button>
    </section>
  );
}

function Received() {
  const s = useSession();
  const [rows, setRows] = useState<GrantRow[]>([]);
  useEffect(() => {
    s.ledger.grants(s.account, true, s.events).then(setRows, () => setRows([]));
  }, [s.ledger, s.account, s.events]);
  const patients = [...new Set(rows.filter((g) => g.status === "active").map((g) => g.patient))];
  return (
    <section>
      <h2>Grants received</h2>
      <table data-testid="received-table">
        <thead>
          <tr><th>grant</th><th>patient</th><th>scope</th><th>expires</th><th>status</th></tr>
        </thead>
        <tbody>
          {rows.map((g) => (
            <tr key={String(g.tokenId)} data-testid={`received-${g.tokenId}`}>
              <td>{String(g.tokenId)}</td><td className="mono" title={g.patient}>{shortAddress(g.patient)}</td>
              <td>{scopeText(g)}</td><td>{formatTime(g.expiresAt)}</td><td>{grantStatusText(g.status)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {patients.map((p) => (
        <PatientRecords key={p} patient={p} />
      ))}
    </section>
  );
}

function PatientRecords({ patient }: { patient: Address }) {
  const s = useSession();
  const [ids, setIds] = useState<{ id: bigint; readable: boolean }[]>([]);
  useEffect(() => {
    s.ledger.readableRecords(patient).then(setIds, () => setIds([]));
  }, [s.ledger, patient, s.tick]);
  return (
    <div className="records-of">
      <h3 className="mono">Records of {patient}</h3>
      {ids.filter((r) => r.readable).map((r) => (
        <OpenButton key={String(r.id)} id={r.id} />
      ))}
    </div>
  );
}

function OpenRecord() {
  const [id, setId] = useState("");
  const parsed = /^[0-9]+$/.test(id.trim()) && BigInt(id.trim()) > 0n ? BigInt(id.trim()) : null;
  return (
    <section>
      <h2>Open a record by id</h2>
      <input value={id} onChange={(e) => setId(e.target.value)} placeholder="record id" data-testid="open-id" />
      {parsed !== null && <OpenButton id={parsed} />}
    </section>
  );
}

function Emergency() {
  const s = useSession();
  const [patient, setPatient] = useState("");
  const [reason, setReason] = useState("");
  const [quota, setQuota] = useState<{ used: number; limit: number } | null>(null);
  useEffect(() => {
    s.ledger.emergencyQuota().then(setQuota, () => setQuota(null));
  }, [s.ledger, s.tick]);
  const mine = doctorOpenings(s.events, s.account);
  const open = () =>
    s.run("Opening emergency access", async () => {
      if (!isAddress(patient.trim(), { strict: false })) throw new UserFacingError(`"${patient}" is not an address.`);
      const code = Number(reason);
      if (!EMERGENCY_REASONS.some((r) => r.code === code)) throw new UserFacingError("Choose the reason for the emergency access first.");
      const p = getAddress(patient.trim());
      const window = await s.ledger.emergencyWindow();
      const ok = globalThis.confirm(
        `Break-glass access to ${p} for ${Number(window) / 3600} h, because ${reasonText(code)}.\n\n` +
          "It is logged on chain for good with your reason, and the patient is alerted. The record keys come from the patient's " +
          "emergency custodians, not from this page: a record opens once a custodian released its key to you. The patient may " +
          "close the access at any time, which bars you from it for 30 days. Use it only in an emergency. Continue?",
      );
      if (!ok) return "Emergency access not opened.";
      const r = await s.ledger.openEmergency(p, code);
      return (
        `Emergency access to ${shortAddress(p)} open until ${formatTime(r.expiresAt)}. ` +
        "Record keys come from the patient's emergency custodians: a record opens once one of them released its key to you."
      );
    });
  return (
    <section>
      <h2>Break-glass emergency access</h2>
      <p className="hint">
        Only when the patient cannot consent. You give a reason, which is logged on chain and mailed to the patient; the patient's
        emergency custodians release the record keys to you, and without custodians break-glass is off for that patient.
        {quota && ` You opened ${quota.used} of the ${quota.limit} emergency accesses allowed per 24 hours.`}
      </p>
      <input value={patient} onChange={(e) => setPatient(e.target.value)} placeholder="patient 0x…" data-testid="emergency-patient" />
      <select value={reason} onChange={(e) => setReason(e.target.value)} data-testid="emergency-reason">
        <option value="">Reason…</option>
        {EMERGENCY_REASONS.map((r) => (
          <option key={r.code} value={String(r.code)}>
            {r.code}. {r.label}
          </option>
        ))}
      </select>
      <button className="danger" onClick={open} data-testid="emergency-open">Open emergency access</button>
      {mine.length > 0 && (
        <table data-testid="my-emergencies">
          <thead>
            <tr><th>patient</th><th>reason</th><th>until</th><th>closed by the patient</th></tr>
          </thead>
          <tbody>
            {mine.map((o) => (
              <tr key={o.patient}>
                <td className="mono" title={o.patient}>{shortAddress(o.patient)}</td>
                <td>{reasonText(o.reason)}</td>
                <td>{formatTime(o.expiresAt)}</td>
                <td>{o.closedBarredUntil === null ? "no" : `yes; you are barred until ${formatTime(o.closedBarredUntil)}${o.barLifted ? " (bar lifted)" : ""}`}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
