// A client of kubo's HTTP RPC API: `careledger ipfs serve` on loopback, or kubo
// itself. Only ciphertext goes through it; every block is checked against the
// CID the vault computed, and every file against the hash on chain.

export class IpfsError extends Error {}

type Progress = (done: number, total: number) => void;

export class Kubo {
  constructor(
    private readonly base: string,
    private readonly fetchFn: typeof fetch = (...a) => fetch(...a),
  ) {}

  private async post(path: string, body?: BodyInit): Promise<Response> {
    let res: Response;
    try {
      res = await this.fetchFn(`${this.base}/api/v0/${path}`, { method: "POST", body });
    } catch {
      throw new IpfsError(`the IPFS API at ${this.base || location.origin} cannot be reached`);
    }
    if (!res.ok) {
      let message = `HTTP ${res.status}`;
      try {
        const j = await res.json();
        if (j && typeof j.Message === "string") message = j.Message;
      } catch {
        /* not JSON */
      }
      throw new IpfsError(`IPFS: ${message}`);
    }
    return res;
  }

  async version(): Promise<string> {
    const j = await (await this.post("version")).json();
    return String(j.Version ?? "unknown");
  }

  /** Stores one block; refuses an answer naming another CID. */
  async putBlock(cid: string, codec: "raw" | "dag-pb", data: Uint8Array): Promise<void> {
    const form = new FormData();
    form.append("file", new Blob([data as BlobPart]), "block");
    const res = await this.post(`block/put?cid-codec=${codec}&mhtype=sha2-256`, form);
    const j = await res.json();
    if (j.Key !== cid) throw new IpfsError(`IPFS stored a block as ${j.Key}, expected ${cid}`);
  }

  async putBlocks(blocks: { cid: string; codec: "raw" | "dag-pb"; data: Uint8Array }[], onProgress?: Progress): Promise<void> {
    const total = blocks.reduce((n, b) => n + b.data.length, 0);
    let done = 0;
    for (const b of blocks) {
      await this.putBlock(b.cid, b.codec, b.data);
      done += b.data.length;
      onProgress?.(done, total);
    }
  }

  /** The file behind `cid`, streamed. */
  async cat(cid: string, expectedLength?: number, onProgress?: Progress): Promise<Uint8Array> {
    const res = await this.post(`cat?arg=${encodeURIComponent(cid)}`);
    if (!res.body) return new Uint8Array(await res.arrayBuffer());
    const reader = res.body.getReader();
    const parts: Uint8Array[] = [];
    let n = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      parts.push(value);
      n += value.length;
      onProgress?.(n, expectedLength ?? n);
    }
    const out = new Uint8Array(n);
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }
}
