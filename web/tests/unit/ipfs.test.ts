import { describe, expect, it } from "vitest";
import { Kubo, IpfsError } from "../../src/ipfs";

function server(handler: (url: string, init?: RequestInit) => Response) {
  const calls: string[] = [];
  const f = async (url: string | URL | Request, init?: RequestInit) => {
    calls.push(String(url));
    return handler(String(url), init);
  };
  return { calls, fetch: f as typeof fetch };
}

describe("kubo RPC client", () => {
  it("puts blocks with their codec and checks the CID it gets back", async () => {
    const s = server((url) => new Response(JSON.stringify({ Key: url.includes("dag-pb") ? "bafyroot" : "bafkleaf", Size: 3 })));
    const k = new Kubo("http://127.0.0.1:5001", s.fetch);
    const seen: number[] = [];
    await k.putBlocks(
      [
        { cid: "bafkleaf", codec: "raw", data: new Uint8Array([1, 2, 3]) },
        { cid: "bafyroot", codec: "dag-pb", data: new Uint8Array([4]) },
      ],
      (d) => seen.push(d),
    );
    expect(s.calls).toEqual([
      "http://127.0.0.1:5001/api/v0/block/put?cid-codec=raw&mhtype=sha2-256",
      "http://127.0.0.1:5001/api/v0/block/put?cid-codec=dag-pb&mhtype=sha2-256",
    ]);
    expect(seen).toEqual([3, 4]);
    await expect(k.putBlock("bafyother", "raw", new Uint8Array([1]))).rejects.toThrow(/expected bafyother/);
  });

  it("streams cat and reports kubo's error message", async () => {
    const s = server((url) =>
      url.includes("bafgood")
        ? new Response(new Uint8Array([9, 8, 7]))
        : new Response(JSON.stringify({ Message: "block was not found locally", Code: 0, Type: "error" }), { status: 500 }),
    );
    const k = new Kubo("", s.fetch);
    expect([...(await k.cat("bafgood"))]).toEqual([9, 8, 7]);
    await expect(k.cat("bafmissing")).rejects.toThrow(new IpfsError("IPFS: block was not found locally"));
  });
});
