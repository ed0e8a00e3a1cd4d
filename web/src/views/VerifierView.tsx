// The accredited verifier: verify or suspend doctors.
import { useEffect, useState } from "react";
import type { Address, Hex } from "viem";
import type { DoctorStatus } from "../ledger";
import { useSession } from "../session";

export function VerifierView() {
  const s = useSession();
  const [rows, setRows] = useState<{ address: Address; status: DoctorStatus; licenceHash: Hex }[]>([]);
  useEffect(() => {
    s.ledger.doctors(s.events).then(setRows, () => setRows([]));
  }, [s.ledger, s.events]);
  if (!s.role.isVerifier) {
    return <p className="view" data-testid="not-verifier">This account is not an accredited verifier: the registry's owner adds verifiers.</p>;
  }
  const act = (verb: "verify" | "suspend", d: Address) =>
    s.run(`${verb === "verify" ? "Verifying" : "Suspending"} ${d}`, async () => {
      await (verb === "verify" ? s.ledger.verifyDoctor(d) : s.ledger.suspendDoctor(d));
    });
  return (
    <section className="view" data-testid="verifier-view">
      <h2>Doctors</h2>
      <table data-testid="verifier-table">
        <thead>
          <tr><th>doctor</th><th>licence hash</th><th>status</th><th /></tr>
        </thead>
        <tbody>
          {rows.map((d) => (
            <tr key={d.address} data-testid={`doctor-${d.address.toLowerCase()}`}>
              <td className="mono">{d.address}</td>
              <td className="mono">{d.licenceHash.slice(0, 18)}…</td>
              <td><span className={`badge ${d.status}`}>{d.status}</span></td>
              <td>
                {d.status !== "verified" && <button onClick={() => act("verify", d.address)} data-testid={`verify-${d.address.toLowerCase()}`}>Verify</button>}
                {d.status === "verified" && <button onClick={() => act("suspend", d.address)} data-testid={`suspend-${d.address.toLowerCase()}`}>Suspend</button>}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
