import { describe, expect, it } from "vitest";
import { EventLog } from "../../src/eventlog";
import type { LedgerEvent } from "../../src/ledger";

const ev = (block: number, name = "RecordAdded"): LedgerEvent => ({
  name,
  args: {},
  blockNumber: BigInt(block),
  logIndex: 0,
  tx: `0x${block.toString(16).padStart(64, "0")}`,
  address: "0x00000000000000000000000000000000000000aa",
});

/** A chain whose blocks 10.. each hold one event, and a record of the reads asked of it. */
function chain() {
  const c = {
    head: 20n,
    names: new Map<number, string>(),
    reads: [] as [bigint, bigint][],
    fail: false,
    fetch: async (from: bigint, to: bigint) => {
      c.reads.push([from, to]);
      if (c.fail) throw new Error("node down");
      const out: LedgerEvent[] = [];
      for (let b = from; b <= to; b++) if (b >= 10n) out.push(ev(Number(b), c.names.get(Number(b))));
      return out;
    },
  };
  return c;
}

describe("event log", () => {
  it("reads the history once, then only the new blocks and a margin", async () => {
    const c = chain();
    const log = new EventLog(c.fetch, async () => c.head, 10n, 3n);
    expect((await log.all()).map((e) => Number(e.blockNumber))).toEqual([10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20]);
    c.head = 25n;
    const second = await log.all();
    expect(c.reads).toEqual([
      [10n, 20n],
      [18n, 25n],
    ]);
    expect(second.map((e) => Number(e.blockNumber))).toEqual([10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25]);
  });

  it("takes the chain's word for the margin's blocks when they change", async () => {
    const c = chain();
    const log = new EventLog(c.fetch, async () => c.head, 10n, 3n);
    await log.all();
    c.names.set(19, "AccessRevoked");
    const events = await log.all();
    expect(events.filter((e) => e.blockNumber === 19n).map((e) => e.name)).toEqual(["AccessRevoked"]);
    expect(events).toHaveLength(11);
  });

  it("starts over when the head goes back, and keeps what it had when a read fails", async () => {
    const c = chain();
    const log = new EventLog(c.fetch, async () => c.head, 10n, 3n);
    await log.all();
    c.head = 15n;
    expect(await log.all()).toHaveLength(6);
    expect(c.reads.at(-1)).toEqual([10n, 15n]);
    c.head = 30n;
    c.fail = true;
    await expect(log.all()).rejects.toThrow("node down");
    c.fail = false;
    expect(await log.all()).toHaveLength(21);
    expect(c.reads.at(-1)).toEqual([13n, 30n]);
  });

  it("shares one read between callers at the same time, and hands each a copy", async () => {
    const c = chain();
    const log = new EventLog(c.fetch, async () => c.head, 10n, 3n);
    const [a, b] = await Promise.all([log.all(), log.all()]);
    expect(c.reads).toHaveLength(1);
    a.pop();
    expect(b).toHaveLength(11);
    expect(await log.all()).toHaveLength(11);
  });
});
