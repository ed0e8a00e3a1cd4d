// The three contracts' events since the deployment, read once and then only
// from the last block seen: a page refresh costs the new blocks, not the whole
// history. The last `margin` blocks are read again each time, since a chain may
// rewrite its newest blocks; a head below the last one seen starts over.
import type { LedgerEvent } from "./ledger";

export type FetchEvents = (fromBlock: bigint, toBlock: bigint) => Promise<LedgerEvent[]>;

export class EventLog {
  private events: LedgerEvent[] = [];
  private through: bigint | null = null;
  private pending: Promise<LedgerEvent[]> | null = null;

  constructor(
    private readonly fetch: FetchEvents,
    private readonly head: () => Promise<bigint>,
    private readonly start: bigint,
    private readonly margin = 12n,
  ) {}

  /** Every event, oldest first. Callers at the same time share one refresh. */
  all(): Promise<LedgerEvent[]> {
    this.pending ??= this.refresh().finally(() => {
      this.pending = null;
    });
    return this.pending.then((events) => events.slice());
  }

  private async refresh(): Promise<LedgerEvent[]> {
    const head = await this.head();
    let from = this.start;
    if (this.through !== null && head >= this.through) {
      const again = this.through - this.margin + 1n;
      if (again > from) from = again;
    }
    const fresh = head >= from ? await this.fetch(from, head) : [];
    // Set only once the read succeeded: a failed one leaves the log as it was.
    this.events = [...this.events.filter((e) => e.blockNumber < from), ...fresh];
    this.through = head;
    return this.events;
  }
}
