// The grants tables against a scripted chain: a burnt token (grantInfo reverts with
// ERC721NonexistentToken) is a row of its own, never a failed list; a grant cleared
// away by a later grant (AccessRevoked in that grant's transaction) shows as expired.
import { describe, expect, it } from "vitest";
import { decodeFunctionData, encodeErrorResult, encodeFunctionResult, numberToHex, type Address, type Hex } from "viem";
import { accessTokenAbi } from "../../src/abi/generated";
import { auditTrail } from "../../src/audit";
import type { AppConfig } from "../../src/config";
import { Ledger, grantStatusText, type LedgerEvent } from "../../src/ledger";
import { prunedGrants } from "../../src/readers";
import { ZERO32 } from "../../src/scope";

const P = "0x00000000000000000000000000000000000000aa" as Address;
const D = "0x00000000000000000000000000000000000000dd" as Address;
const E = "0x00000000000000000000000000000000000000ee" as Address;
const NOW = 10_000n;

const cfg: AppConfig = {
  chainId: 412346,
  chainName: "test",
  rpcUrl: "http://127.0.0.1:1",
  patientRegistry: "0x0000000000000000000000000000000000000001",
  accessToken: "0x0000000000000000000000000000000000000002",
  recordRegistry: "0x0000000000000000000000000000000000000003",
  deployBlock: 0n,
  ipfsApi: "",
  notifier: null,
};

const tx = (n: number) => numberToHex(n, { size: 32 });
let logIndex = 0;
const ev = (name: string, args: Record<string, unknown>, block: number, txn = block): LedgerEvent => ({
  name,
  args,
  blockNumber: BigInt(block),
  logIndex: logIndex++,
  tx: tx(txn),
  address: cfg.accessToken,
});
const granted = (tokenId: bigint, expiresAt: bigint, block: number, txn = block, doctor: Address = D) =>
  ev("AccessGranted", { tokenId, patient: P, doctor, expiresAt, scopeKind: 0, category: ZERO32, recordIds: [] }, block, txn);
const revoked = (tokenId: bigint, block: number, txn = block, doctor: Address = D) =>
  ev("AccessRevoked", { tokenId, patient: P, doctor }, block, txn);

/** A wallet that is a scripted node: grantInfo answers for `live` tokens and reverts
 * with ERC721NonexistentToken (as the devnode does: code 3 with the revert data)
 * for the others, or fails with `broken` for those. */
function chain(live: Map<bigint, bigint>, broken: Set<bigint> = new Set()) {
  const calls: bigint[] = [];
  const provider = {
    request: async ({ method, params }: { method: string; params?: unknown }) => {
      if (method === "eth_chainId") return numberToHex(cfg.chainId);
      if (method === "eth_getBlockByNumber") {
        return { number: "0x10", hash: tx(16), parentHash: tx(15), timestamp: numberToHex(NOW), transactions: [], gasLimit: "0x0", gasUsed: "0x0" };
      }
      if (method === "eth_call") {
        const [call] = params as [{ to: Address; data: Hex }];
        const { functionName, args } = decodeFunctionData({ abi: accessTokenAbi, data: call.data });
        if (functionName !== "grantInfo") throw new Error(`unexpected call ${functionName}`);
        const id = (args as readonly [bigint])[0];
        calls.push(id);
        if (broken.has(id)) throw Object.assign(new Error("connection reset"), { code: -32603 });
        const expiresAt = live.get(id);
        if (expiresAt === undefined) {
          const data = encodeErrorResult({ abi: accessTokenAbi, errorName: "ERC721NonexistentToken", args: [id] });
          throw Object.assign(new Error("execution reverted"), { code: 3, data });
        }
        return encodeFunctionResult({ abi: accessTokenAbi, functionName: "grantInfo", result: [P, D, 100n, expiresAt, 0, ZERO32] } as never);
      }
      throw new Error(`unexpected ${method}`);
    },
  };
  return { ledger: new Ledger(cfg, provider, P), calls };
}

describe("grants tables", () => {
  it("show a burnt token as ended, next to the others, instead of failing the list", async () => {
    const events = [
      granted(1n, 20_000n, 1),
      granted(2n, 20_000n, 2),
      revoked(2n, 3),
      granted(3n, 20_000n, 4), // burnt: no event here tells why
      granted(4n, 5_000n, 5),
    ];
    const { ledger, calls } = chain(new Map([[1n, 20_000n], [4n, 5_000n]]));
    const rows = await ledger.grants(P, false, events);
    expect(rows.map((r) => [r.tokenId, r.status])).toEqual([
      [1n, "active"],
      [2n, "revoked"],
      [3n, "burnt"],
      [4n, "expired"],
    ]);
    expect(rows[2]).toMatchObject({ doctor: D, expiresAt: 20_000n, issuedAt: 0n });
    // A revoked grant is never asked about (viem retries a revert through a custom transport: ids once each).
    expect([...new Set(calls)].sort()).toEqual([1n, 3n, 4n]);
    expect(rows.map((r) => grantStatusText(r.status))).toEqual(["active", "revoked", "ended (token burnt)", "expired"]);
    // The doctor's "received" table: the same rows.
    const received = await ledger.grants(D, true, events);
    expect(received.map((r) => r.status)).toEqual(["active", "revoked", "burnt", "expired"]);
  });

  it("show a grant a later grant cleared away (AccessRevoked in that grant's transaction) as expired, not revoked", async () => {
    const events = [
      granted(1n, 5_000n, 1),
      granted(2n, 5_000n, 2),
      granted(3n, 5_000n, 3, 3, E),
      revoked(2n, 4), // the patient revoked this one
      // One transaction: the pair's expired grant 1 is burnt, then grant 4 is minted.
      revoked(1n, 5, 9),
      granted(4n, 20_000n, 5, 9),
      // Another pair's grant in another transaction of the same block is no prune.
      revoked(3n, 5, 10, E),
    ];
    expect([...prunedGrants(events)]).toEqual(["1"]);
    const { ledger, calls } = chain(new Map([[4n, 20_000n]]));
    const rows = await ledger.grants(P, false, events);
    expect(rows.map((r) => [r.tokenId, r.status])).toEqual([
      [1n, "expired"],
      [2n, "revoked"],
      [3n, "revoked"],
      [4n, "active"],
    ]);
    expect(calls).toEqual([4n]);
    const trail = auditTrail(events, P).filter((r) => r.kind === "revoke").map((r) => r.detail);
    expect(trail).toEqual(["grant 2 revoked", "grant 1 ended: expired, cleared by a new grant", "grant 3 revoked"]);
  });

  it("still report a node that fails for another reason", async () => {
    const { ledger } = chain(new Map(), new Set([1n]));
    await expect(ledger.grants(P, false, [granted(1n, 20_000n, 1)])).rejects.toThrow();
  });
});
