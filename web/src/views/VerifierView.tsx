// The accredited verifier: approve or suspend doctors. A doctor is verified once
// enough different verifiers approved (the registry's verification threshold);
// one suspension clears the approvals, and reinstating needs the quorum again.
// Before approving, a verifier checks the licence: the doctor hands the licence
// number and its salt off chain, and the page compares their salted commitment with
// the doctor's licenceHash on chain.
import { useEffect, useState } from "react";
import { getAddress, isAddress, type Address, type Hex } from "viem";
import { patientRegistryAbi } from "../abi/generated";
import { UserFacingError } from "../errors";
import type { DoctorRow } from "../ledger";
import { licenceMatches, normaliseLicence, parseLicenceSalt } from "../licence";
import { same, shortAddress } from "../scope";
import { useSession } from "../session";

/** "approved by n of k" for a doctor's approvals and the threshold (0: not read yet). */
export function approvalText(approvals: number, threshold: number): string {
  return threshold > 0 ? `approved by ${approvals} of ${threshold}` : `approved by ${approvals}`;
}

export function VerifierView() {
  const s = useSession();
  const [rows, setRows] = useState<DoctorRow[]>([]);
  const [threshold, setThreshold] = useState(0);
  useEffect(() => {
    s.ledger.doctors(s.events).then(setRows, () => setRows([]));
    s.ledger.verificationThreshold().then(setThreshold, () => setThreshold(0));
  }, [s.ledger, s.events]);
  if (!s.role.isVerifier) {
    return <p className="view" data-testid="not-verifier">This account is not an accredited verifier: the registry's owner adds verifiers.</p>;
  }
  const verify = (d: Address) =>
    s.run(`Approving ${d}`, async () => {
      const r = await s.ledger.verifyDoctor(d);
      return r.verified
        ? `Doctor ${shortAddress(d)} is verified (${approvalText(r.approvals, r.threshold)}).`
        : `Your approval of ${shortAddress(d)} is recorded: ${approvalText(r.approvals, r.threshold)}; more verifiers must approve.`;
    });
  const suspend = (d: Address) =>
    s.run(`Suspending ${d}`, async () => {
      await s.ledger.suspendDoctor(d);
      return `Doctor ${shortAddress(d)} is suspended and its approvals cleared: reinstating needs ${threshold || "the required number of"} approval(s) again.`;
    });
  return (
    <section className="view" data-testid="verifier-view">
      <h2>Doctors</h2>
      <p className="hint">
        Verifying records your approval; a doctor is verified once {threshold || "enough"} different verifier(s) approved. The same
        verifier cannot approve twice.
      </p>
      <table data-testid="verifier-table">
        <thead>
          <tr><th>doctor</th><th>licence commitment</th><th>status</th><th>approvals</th><th /></tr>
        </thead>
        <tbody>
          {rows.map((d) => {
            const id = d.address.toLowerCase();
            const mine = d.approvals.some((v) => same(v, s.account));
            return (
              <tr key={d.address} data-testid={`doctor-${id}`}>
                <td className="mono">{d.address}</td>
                <td className="mono">{d.licenceHash.slice(0, 18)}…</td>
                <td><span className={`badge ${d.status}`}>{d.status}</span></td>
                <td data-testid={`approvals-${id}`} title={d.approvals.join(", ")}>
                  {/* A completed quorum clears the approvals on chain: say so rather than "0 of k". */}
                  {d.status === "verified" ? "quorum met" : approvalText(d.approvals.length, threshold)}
                  {mine && " (you approved)"}
                </td>
                <td>
                  {d.status !== "verified" &&
                    (mine ? (
                      <span className="hint">waiting for other verifiers</span>
                    ) : (
                      <button onClick={() => verify(d.address)} data-testid={`verify-${id}`}>Approve</button>
                    ))}
                  {d.status === "verified" && <button onClick={() => suspend(d.address)} data-testid={`suspend-${id}`}>Suspend</button>}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      <CheckLicence />
    </section>
  );
}

/** Licence + salt (handed over by the doctor off chain) against the doctor's on-chain commitment. */
function CheckLicence() {
  const s = useSession();
  const [doctor, setDoctor] = useState("");
  const [licence, setLicence] = useState("");
  const [salt, setSalt] = useState("");
  const [result, setResult] = useState<{ ok: boolean; text: string } | null>(null);
  const check = () =>
    s.run("Checking the licence", async () => {
      setResult(null);
      if (!isAddress(doctor.trim(), { strict: false })) throw new UserFacingError(`"${doctor}" is not an address.`);
      if (!normaliseLicence(licence)) throw new UserFacingError("Enter the licence number the doctor showed you.");
      const parsed = parseLicenceSalt(salt);
      if (!parsed) throw new UserFacingError("The salt is 32 bytes in hex (64 hex digits), as the doctor's registration printed it.");
      const d = getAddress(doctor.trim());
      const onChain = (await s.ledger.client.readContract({
        address: s.cfg.patientRegistry,
        abi: patientRegistryAbi,
        functionName: "licenceHash",
        args: [d],
      } as never)) as Hex;
      if (/^0x0*$/.test(onChain)) throw new UserFacingError(`${shortAddress(d)} is not registered as a doctor.`);
      const ok = licenceMatches(onChain, parsed, licence);
      const text = ok
        ? `Licence ${normaliseLicence(licence)} matches the commitment ${shortAddress(d)} registered on chain.`
        : `Licence ${normaliseLicence(licence)} with this salt does not match the commitment ${shortAddress(d)} registered on chain: do not approve this doctor.`;
      setResult({ ok, text });
      return text;
    });
  return (
    <section data-testid="check-licence">
      <h2>Check a licence</h2>
      <p className="hint">
        The doctor hands you the licence number and its salt off chain; only their salted commitment is on chain.
      </p>
      <input value={doctor} onChange={(e) => setDoctor(e.target.value)} placeholder="doctor 0x…" data-testid="check-licence-doctor" />
      <input value={licence} onChange={(e) => setLicence(e.target.value)} placeholder="licence number" data-testid="check-licence-licence" />
      <input value={salt} onChange={(e) => setSalt(e.target.value)} placeholder="salt 0x…" data-testid="check-licence-salt" />
      <button onClick={check} data-testid="check-licence-run">Check</button>
      {result && (
        <p className={result.ok ? "hint" : "error"} data-testid="check-licence-result">
          {result.ok ? "matches" : "does not match"}: {result.text}
        </p>
      )}
    </section>
  );
}
