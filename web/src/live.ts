// Live updates: new blocks' logs of the three contracts, polled through the
// wallet (eth_blockNumber + eth_getLogs work on every node, filters do not).
import type { PublicClient, Address } from "viem";
import { decodeLogs, type LedgerEvent } from "./ledger";

export function follow(
  client: PublicClient,
  addresses: Address[],
  onEvents: (events: LedgerEvent[]) => void,
  onError: (e: unknown) => void,
  intervalMs = 1000,
): () => void {
  let last: bigint | null = null;
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const tick = async () => {
    try {
      const head = await client.getBlockNumber({ cacheTime: 0 });
      if (last === null) last = head;
      else if (head > last) {
        const logs = await client.getLogs({ address: addresses, fromBlock: last + 1n, toBlock: head });
        last = head;
        const events = decodeLogs(logs);
        if (events.length) onEvents(events);
      }
    } catch (e) {
      onError(e);
    }
    if (!stopped) timer = setTimeout(tick, intervalMs);
  };
  void tick();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
