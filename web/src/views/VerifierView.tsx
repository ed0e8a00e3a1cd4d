// The accredited verifier: approve or suspend doctors. A doctor is verified once
// enough different verifiers approved (the registry's verification threshold);
// one suspension clears the approvals, and reinstating needs the quorum again.
import { useEffect, useState } from "react";
import type { Address } from "viem";
import type { DoctorRow } from "../ledger";
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
          <tr><th>doctor</th><th>licence hash</th><th>status</th><th>approvals</th><th /></tr>
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
    </section>
  );
}
