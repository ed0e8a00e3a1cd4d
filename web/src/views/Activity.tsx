// The latest events of the deployment, as they are mined.
import type { LedgerEvent } from "../ledger";

export function Activity({ events }: { events: LedgerEvent[] }) {
  if (events.length === 0) return null;
  return (
    <aside className="activity" data-testid="activity">
      <h2>Live</h2>
      <ul>
        {events.map((e) => (
          <li key={`${e.tx}-${e.logIndex}`}>
            block {String(e.blockNumber)}: {e.name}
          </li>
        ))}
      </ul>
    </aside>
  );
}
