// The vault's WebAssembly build under node (V8, as in Chromium): seal and open
// throughput, the passphrase lock, and the sizes a browser downloads. Prints JSON.
//   node bench/vault.mjs [MiB]     (default 16; needs scripts/build-web first)
import { readFileSync, readdirSync, statSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { randomFillSync } from "node:crypto";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const WEB = join(dirname(fileURLToPath(import.meta.url)), "..");
const pkg = join(WEB, "src", "vault", "pkg");
const w = await import(join(pkg, "careledger_vault.js"));
const wasmBytes = readFileSync(join(pkg, "careledger_vault_bg.wasm"));

const t0 = performance.now();
w.initSync({ module: wasmBytes });
const initMs = performance.now() - t0;

const mib = Number(process.argv[2] ?? 16);
const plain = new Uint8Array(mib << 20);
for (let i = 0; i < plain.length; i += 65536) randomFillSync(plain, i, Math.min(65536, plain.length - i));
const secret = w.generateSecret();
const readers = new Uint8Array(64);
readers.set(w.publicKey(secret), 0);
readers.set(w.publicKey(w.generateSecret()), 32);
const reg = new Uint8Array(20).fill(7);

const best = (n, f) => {
  let min = Infinity;
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    f();
    min = Math.min(min, performance.now() - t);
  }
  return min;
};

let sealed;
const sealMs = best(3, () => {
  sealed?.free();
  sealed = w.sealRecord(plain, 412346n, reg, reg, "1", readers);
});
const ciphertext = new Uint8Array(sealed.ciphertextLen);
let at = 0;
for (let i = 0; i < sealed.blockCount; i++) {
  if (sealed.blockCodec(i) === "raw") {
    const b = sealed.blockData(i);
    ciphertext.set(b, at);
    at += b.length;
  }
}
const wrapped = sealed.wrappedKey(0);
const sha = sealed.sha256;
const openMs = best(3, () => w.openRecord(ciphertext, wrapped, secret, 412346n, reg, reg, "1", sha));
let locked;
const lockMs = best(3, () => (locked = w.lockSecret(secret, "a passphrase of some length")));
const unlockMs = best(3, () => w.unlockSecret(locked, "a passphrase of some length"));

const dist = join(WEB, "dist", "assets");
let js = 0;
let jsGzip = 0;
try {
  for (const f of readdirSync(dist).filter((f) => f.endsWith(".js"))) {
    const b = readFileSync(join(dist, f));
    js += statSync(join(dist, f)).size;
    jsGzip += gzipSync(b, { level: 9 }).length;
  }
} catch {
  /* no build yet */
}

const mbps = (ms) => Math.round(((plain.length / 1e6) / (ms / 1000)) * 10) / 10;
console.log(
  JSON.stringify({
    node: process.version,
    mib,
    blocks: sealed.blockCount,
    init_ms: Math.round(initMs * 10) / 10,
    seal_ms: Math.round(sealMs),
    seal_mb_per_s: mbps(sealMs),
    open_ms: Math.round(openMs),
    open_mb_per_s: mbps(openMs),
    lock_ms: Math.round(lockMs),
    unlock_ms: Math.round(unlockMs),
    wasm_bytes: wasmBytes.length,
    wasm_gzip_bytes: gzipSync(wasmBytes, { level: 9 }).length,
    js_bytes: js,
    js_gzip_bytes: jsGzip,
  }),
);
