// The app end to end in headless Chromium against `careledger demo --web`: a real
// devnode running the contracts' WASM, the embedded IPFS store over kubo's RPC
// API, and the built app. A dev-key wallet stands in for MetaMask.
//
//   node tests/e2e/run.mjs        (after `npm run build` and the contracts' build)
//
// Env: CARELEDGER_BIN (default ../target/debug/careledger), CHROMIUM
// (default /usr/bin/chromium), E2E_ARTIFACTS (default test-results/).
// Prints `web-e2e: N passed, M failed`; screenshots of every view go to the
// artifacts directory.
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer, connect as tcpConnect } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { DevWallet } from "./wallet.mjs";

const WEB = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const ROOT = resolve(WEB, "..");
const BIN = process.env.CARELEDGER_BIN ?? join(ROOT, "target", "debug", "careledger");
const NOTIFIER_BIN = process.env.CARELEDGER_NOTIFIER_BIN ?? join(dirname(BIN), "careledger-notifier");
const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";
const ARTIFACTS = resolve(process.env.E2E_ARTIFACTS ?? join(WEB, "test-results"));
const WAIT = 60_000;
// Chromium as the machine notes say: no sandbox as root, nothing reaching out.
const FLAGS = [
  "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
  "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
];

mkdirSync(ARTIFACTS, { recursive: true });
const results = [];
const children = [];
let demo;
let browser;
const scratch = mkdtempSync(join(tmpdir(), "careledger-web-e2e-"));
// Plaintext the CLI reads lives apart: the privacy scan reads everything in scratch.
const plainDir = mkdtempSync(join(tmpdir(), "careledger-web-e2e-plain-"));

// Nothing may hang CI: the whole run has a deadline.
const deadline = setTimeout(() => {
  console.error("web-e2e: deadline of 6 minutes passed");
  finish(1);
}, 6 * 60_000);

async function finish(code) {
  clearTimeout(deadline);
  await browser?.close().catch(() => {});
  for (const c of children) c.kill("SIGTERM");
  rmSync(scratch, { recursive: true, force: true });
  rmSync(plainDir, { recursive: true, force: true });
  const passed = results.filter((r) => r.ok).length;
  console.log(`web-e2e: ${passed} passed, ${results.length - passed} failed`);
  process.exit(code || (passed === results.length ? 0 : 1));
}

async function check(name, fn) {
  const t = Date.now();
  try {
    await fn();
    results.push({ name, ok: true });
    console.error(`  ok   ${name} (${Date.now() - t} ms)`);
  } catch (e) {
    results.push({ name, ok: false });
    console.error(`  FAIL ${name}: ${e?.stack ?? e}`);
    throw e;
  }
}

function freePort() {
  return new Promise((ok, fail) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
    s.on("error", fail);
  });
}

async function waitForPort(port, what, logFile) {
  const until = Date.now() + 30_000;
  for (;;) {
    const up = await new Promise((ok) => {
      const c = tcpConnect(port, "127.0.0.1", () => (c.end(), ok(true)));
      c.on("error", () => ok(false));
    });
    if (up) return;
    if (Date.now() > until) throw new Error(`${what} did not listen on ${port}: ${logFile ? readFileSync(logFile, "utf8").slice(-2000) : ""}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function startDemo(notifierUrl) {
  return new Promise((resolveReady, reject) => {
    const args = ["demo", "--web", join(WEB, "dist"), "--listen", "127.0.0.1:0", "--rpc-listen", "127.0.0.1:0",
      "--print-keys", "--json", "--contracts", join(ROOT, "target", "contracts"), "--notifier", notifierUrl];
    demo = spawn(BIN, args, { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, RUST_LOG: "warn" } });
    children.push(demo);
    let out = "";
    let err = "";
    demo.stdout.on("data", (d) => {
      out += d;
      const nl = out.indexOf("\n");
      if (nl >= 0) {
        try {
          resolveReady(JSON.parse(out.slice(0, nl)));
        } catch (e) {
          reject(new Error(`demo printed no JSON ready line: ${out.slice(0, nl)}`));
        }
      }
    });
    demo.stderr.on("data", (d) => (err += d));
    demo.on("exit", (code) => reject(new Error(`careledger demo --web exited with ${code}: ${err.slice(-2000)}`)));
  });
}

async function rolePage(ready, account, opts = {}) {
  const wallet = new DevWallet({ rpcUrl: ready.rpcUrl, chainId: ready.chainId, privateKey: account.privateKey, ...opts });
  const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1200, height: 900 } });
  await wallet.attach(context);
  const page = await context.newPage();
  page.setDefaultTimeout(WAIT);
  page.on("pageerror", (e) => console.error(`  [page error] ${e.message}`));
  await page.goto(ready.app);
  return { page, wallet };
}

const shot = (page, name) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
const byId = (id) => `[data-testid="${id}"]`;

async function connect(page) {
  await page.click(byId("connect"));
  await page.waitForSelector(byId("account"));
}

async function expectStatus(page, re) {
  await page.waitForFunction(
    (src) => new RegExp(src).test(document.querySelector('[data-testid="status"]')?.textContent ?? ""),
    re.source,
  ).catch(async (e) => {
    const error = await page.textContent(byId("error"), { timeout: 100 }).catch(() => null);
    const status = await page.textContent(byId("status"), { timeout: 100 }).catch(() => null);
    throw new Error(`status never matched ${re}: status "${status}"${error ? `, error "${error}"` : ""} (${e.message})`);
  });
}

async function expectError(page, re) {
  const el = await page.waitForSelector(byId("error"));
  const text = await el.textContent();
  if (!re.test(text)) throw new Error(`error "${text}" does not match ${re}`);
  return text;
}

function filesUnder(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...filesUnder(p));
    else out.push(p);
  }
  return out;
}

/** aiosmtpd (a real SMTP server, into a Maildir) and the real notifier, whose
 * directory the doctor's page registers with across origins (CORS). */
async function startMail(ready, notifierPort) {
  const smtpPort = await freePort();
  const maildir = join(scratch, "maildir");
  const smtpLog = join(scratch, "smtp.log");
  const smtp = spawn("python3", ["-m", "aiosmtpd", "-n", "-l", `127.0.0.1:${smtpPort}`, "-c", "aiosmtpd.handlers.Mailbox", maildir], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  children.push(smtp);
  smtp.stderr.on("data", (d) => writeFileSync(smtpLog, d, { flag: "a" }));
  await waitForPort(smtpPort, "aiosmtpd", smtpLog);
  const deployment = join(scratch, "deployment.json");
  writeFileSync(deployment, JSON.stringify(ready.deployment));
  const log = join(scratch, "notifier.log");
  const env = {
    RPC_URL: ready.rpcUrl,
    DEPLOYMENT: deployment,
    DATABASE: join(scratch, "notifier.sqlite"),
    LISTEN: `127.0.0.1:${notifierPort}`,
    POLL_INTERVAL_MS: "250",
    SMTP_HOST: "127.0.0.1",
    SMTP_PORT: String(smtpPort),
    SMTP_SECURITY: "none",
    MAIL_FROM: "CareLedger <notify@careledger.test>",
    CORS_ORIGINS: new URL(ready.app).origin,
  };
  const notifier = spawn(NOTIFIER_BIN, [], {
    stdio: ["ignore", "ignore", "pipe"],
    env: { PATH: process.env.PATH, RUST_LOG: "info", ...Object.fromEntries(Object.entries(env).map(([k, v]) => [`CARELEDGER_NOTIFIER_${k}`, v])) },
  });
  children.push(notifier);
  notifier.stderr.on("data", (d) => writeFileSync(log, d, { flag: "a" }));
  await waitForPort(notifierPort, "careledger-notifier", log);
  return { maildir, log };
}

/** The mails delivered so far, as text. */
function mails(maildir) {
  const out = [];
  for (const sub of ["new", "cur"]) {
    const dir = join(maildir, sub);
    try {
      for (const f of readdirSync(dir)) out.push(readFileSync(join(dir, f), "utf8"));
    } catch {
      /* no mail yet */
    }
  }
  return out;
}

/** A mail's body as text (base64 and quoted-printable undone). */
function mailBody(text) {
  const split = text.search(/\r?\n\r?\n/);
  const head = split < 0 ? text : text.slice(0, split);
  let body = split < 0 ? "" : text.slice(split).trim();
  if (/^Content-Transfer-Encoding:\s*base64/im.test(head)) body = Buffer.from(body.replace(/\s+/g, ""), "base64").toString("utf8");
  else if (/^Content-Transfer-Encoding:\s*quoted-printable/im.test(head)) {
    body = body.replace(/=\r?\n/g, "").replace(/=([0-9A-F]{2})/g, (_, h) => String.fromCharCode(parseInt(h, 16)));
  }
  return body;
}

// A confirmation code: 8 of "ABCDEFGHJKMNPQRSTUVWXYZ23456789".
const CODE = "[A-HJKMNP-Z2-9]{8}";

/** The code in the confirmation mail to `to`: on a line of its own, or after "code". */
async function mailedCode(maildir, to) {
  const m = await waitForMail(maildir, to, /code/i);
  const body = mailBody(m);
  const code = (body.match(new RegExp(`^\\s*(${CODE})\\s*$`, "m")) ?? body.match(new RegExp(`[Cc]ode\\b[^\\n]{0,80}?\\b(${CODE})\\b`)))?.[1];
  if (!code) throw new Error(`no confirmation code in the mail to ${to}: ${body.slice(0, 1000)}`);
  return code;
}

/** Enters the wrong code once (optional), then the mailed one, in the notices panel. */
async function confirmMailedCode(page, maildir, to, { tryWrong = false } = {}) {
  await page.waitForSelector(`${byId("contact-status")}:has-text("pending")`);
  const code = await mailedCode(maildir, to);
  if (tryWrong) {
    const alphabet = "ABCDEFGHJKMNPQRSTUVWXYZ23456789";
    const wrong = alphabet[(alphabet.indexOf(code[0]) + 1) % alphabet.length] + code.slice(1);
    await page.fill(byId("contact-code"), wrong);
    await page.click(byId("contact-confirm"));
    await expectError(page, /That code is not the one mailed to you/);
    await page.waitForSelector(`${byId("contact-status")}:has-text("pending")`);
  }
  await page.fill(byId("contact-code"), code.toLowerCase());
  await page.click(byId("contact-confirm"));
  await expectStatus(page, /Your address is confirmed: (notices|alerts) are mailed to you/);
  await page.waitForSelector(`${byId("contact-status")}:has-text("confirmed")`);
}

async function waitForMail(maildir, to, re) {
  const until = Date.now() + 30_000;
  for (;;) {
    const m = mails(maildir).find((t) => t.includes(`To: ${to}`) && re.test(t));
    if (m) return m;
    if (Date.now() > until) throw new Error(`no mail to ${to} matching ${re}; mails: ${mails(maildir).length}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

try {
  const notifierPort = await freePort();
  const ready = await startDemo(`http://127.0.0.1:${notifierPort}`);
  const mail = await startMail(ready, notifierPort);
  const doctorEmail = "dr.grey@clinic.test";
  const patientEmail = "pat.jones@home.test";
  const free = ready.accounts.filter((a) => a.role === "free");
  const verifierKey = ready.accounts.find((a) => a.role === "verifier");
  if (free.length < 5 || !verifierKey?.privateKey) throw new Error("demo --web --print-keys gave too few accounts");
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS });

  // A record several UnixFS blocks long, with a canary that must stay in the page.
  const canary = `CANARY-${randomBytes(8).toString("hex")}`;
  const original = Buffer.concat([Buffer.from(`${canary} HbA1c 5.4 %\n`), randomBytes(700_000)]);

  const patient = await rolePage(ready, free[0]);
  const doctor = await rolePage(ready, free[1]);
  const verifier = await rolePage(ready, verifierKey);
  // The patient's emergency custodian: any account with an encryption key on chain.
  const custodian = await rolePage(ready, free[4]);
  const doctorAddr = doctor.wallet.address;
  let licenceSalt = "";

  await check("the doctor registers with a licence and an email (a signed request to the notifier), then confirms the mailed code", async () => {
    const p = doctor.page;
    await connect(p);
    await p.click(byId("tab-doctor"));
    await p.fill(byId("doctor-licence"), "GMC-7654321");
    await p.fill(byId("doctor-email"), doctorEmail);
    await p.fill(byId("doctor-passphrase"), "doctor passphrase");
    await p.click(byId("register-doctor"));
    await expectStatus(p, new RegExp(`Registered as a doctor\\. A code was mailed to ${doctorEmail.replace(/\./g, "\\.")}`));
    await p.waitForSelector(`${byId("doctor-status")}:has-text("pending")`);
    // Double opt-in: nothing is mailed to the address until the mailed code is entered.
    await p.waitForSelector(`${byId("contact-status-text")}:has-text("A code was mailed to ${doctorEmail}")`);
    await shot(p, "1a-doctor-code-mailed");
    await confirmMailedCode(p, mail.maildir, doctorEmail, { tryWrong: true });
    // The salt is shown once, for the doctor to hand to the verifiers off chain.
    licenceSalt = (await p.textContent(byId("licence-salt"))).trim();
    if (!/^0x[0-9a-f]{64}$/.test(licenceSalt)) throw new Error(`no licence salt shown: ${licenceSalt}`);
    await shot(p, "1-doctor-registered-pending");
  });

  await check("the verifier verifies the doctor and the doctor's page updates live", async () => {
    const p = verifier.page;
    await connect(p);
    await p.click(byId("tab-verifier"));
    // The licence and salt the doctor handed over off chain against the on-chain commitment.
    await p.fill(byId("check-licence-doctor"), doctorAddr);
    await p.fill(byId("check-licence-licence"), "GMC-7654322");
    await p.fill(byId("check-licence-salt"), licenceSalt);
    await p.click(byId("check-licence-run"));
    await expectStatus(p, /does not match the commitment/);
    await p.fill(byId("check-licence-licence"), "GMC-7654321");
    await p.click(byId("check-licence-run"));
    await expectStatus(p, /GMC-7654321 matches the commitment/);
    await p.click(byId(`verify-${doctorAddr.toLowerCase()}`));
    // One approval of the default threshold of one verifies the doctor.
    await expectStatus(p, /is verified \(approved by 1 of 1\)/);
    await p.waitForSelector(byId(`suspend-${doctorAddr.toLowerCase()}`));
    await p.waitForSelector(`${byId(`approvals-${doctorAddr.toLowerCase()}`)}:has-text("quorum met")`);
    await shot(p, "2-verifier-view");
    await doctor.page.waitForSelector(`${byId("doctor-status")}:has-text("verified")`);
  });

  await check("the patient registers, uploads a record with progress, and grants the doctor", async () => {
    const p = patient.page;
    await connect(p);
    await p.click(byId("tab-patient"));
    await p.fill(byId("patient-passphrase"), "patient passphrase");
    await p.click(byId("register-patient"));
    await p.waitForSelector(byId("patient-view"));
    await p.setInputFiles(byId("record-file"), { name: "labs.bin", mimeType: "application/octet-stream", buffer: original });
    await p.fill(byId("record-category"), "lab");
    await p.click(byId("upload-record"));
    await expectStatus(p, /Record 1 \(version 1\) stored as baf/);
    await p.waitForSelector(byId("record-1"));
    await p.click(byId("open-1"));
    await expectStatus(p, new RegExp(`Record 1 v1: ${original.length} bytes decrypted`));
    await p.fill(byId("grant-doctor"), doctorAddr);
    await p.fill(byId("grant-expiry"), "1h");
    await p.click(byId("grant"));
    await expectStatus(p, /Granted .* \(grant 1\); 1 existing record\(s\) shared/);
    await p.waitForSelector(`${byId("grant-status-1")}:has-text("active")`);
    await shot(p, "3-patient-view");
  });

  await check("the patient registers for alerts by mail and confirms the mailed code", async () => {
    const p = patient.page;
    await p.waitForSelector(`${byId("contact-status")}:has-text("none")`);
    await p.fill(byId("contact-email"), patientEmail);
    await p.click(byId("contact-register"));
    await expectStatus(p, new RegExp(`A code was mailed to ${patientEmail.replace(/\./g, "\\.")}`));
    await confirmMailedCode(p, mail.maildir, patientEmail);
  });

  await check("the notifier mails the doctor about the grant, without the record's content or CID", async () => {
    const m = await waitForMail(mail.maildir, doctorEmail, /^Subject: CareLedger: access granted/m);
    if (m.includes(canary)) throw new Error("the mail holds the record's canary");
    // The record's own CID, and any CIDv1 (base32, "bafy…"/"bafk…": the k or y
    // keeps a hex transaction hash in a Message-ID from looking like one).
    const cid = (await patient.page.textContent(`${byId("record-1")} td.mono`)).trim();
    if (!cid.startsWith("baf")) throw new Error(`no CID in the records table: ${cid}`);
    if (m.includes(cid) || /baf[ky][a-z2-7]{50,}/.test(m)) throw new Error("the mail holds a CID");
  });

  await check("the doctor opens the record: the download equals the original bytes", async () => {
    const p = doctor.page;
    await p.waitForSelector(byId("received-1"));
    await p.click(byId("open-1"));
    await expectStatus(p, new RegExp(`Record 1 v1: ${original.length} bytes decrypted`));
    const [download] = await Promise.all([p.waitForEvent("download"), p.click(byId("download-1"))]);
    const got = readFileSync(await download.path());
    if (!got.equals(original)) throw new Error(`downloaded ${got.length} bytes that differ from the ${original.length} uploaded`);
    await shot(p, "4-doctor-opened-record");
  });

  await check("a rejected signature is shown as such and nothing is sent", async () => {
    const p = patient.page;
    patient.wallet.rejectNext = true;
    await p.fill(byId("grant-doctor"), doctorAddr);
    await p.click(byId("grant"));
    await expectError(p, /You rejected the request in your wallet/);
    await p.waitForSelector(`${byId("grant-status-1")}:has-text("active")`);
    if (await p.$(byId("grant-2"))) throw new Error("a second grant appeared after the rejection");
  });

  await check("after revocation the doctor is refused with the contract's reason", async () => {
    await patient.page.click(byId("revoke-1"));
    await patient.page.waitForSelector(`${byId("grant-status-1")}:has-text("revoked")`);
    const p = doctor.page;
    await p.waitForFunction(() => !document.querySelector('[data-testid="open-1"]'));
    await p.fill(byId("open-id"), "1");
    await p.click(byId("open-1"));
    await expectError(p, /Access denied: .* has no valid grant for record 1/);
    await shot(p, "5-doctor-refused-after-revoke");
  });

  await check("the patient re-encrypts record 1 for the readers allowed now: themselves alone", async () => {
    const p = patient.page;
    await p.click(byId("rekey-1"));
    await expectStatus(p, /Record 1 version 2: re-encrypted under a new key for 1 reader\(s\)\. Re-encryption protects later versions only/);
  });

  const later = Buffer.concat([Buffer.from(`${canary} ECG after revocation\n`), randomBytes(40_000)]);
  await check("a record added after revocation is wrapped for the patient alone", async () => {
    const p = patient.page;
    await p.setInputFiles(byId("record-file"), { name: "ecg.bin", mimeType: "application/octet-stream", buffer: later });
    await p.click(byId("upload-record"));
    await expectStatus(p, /Record 2 \(version 1\) stored as baf.*wrapped for 1 reader/);
  });

  await check("break-glass: off without a custodian; the doctor opens with a reason; the patient confirms sharing by name; the doctor reads", async () => {
    const p = doctor.page;
    const me = doctorAddr.toLowerCase();
    // The patient named no emergency custodian yet: break-glass is off.
    await p.fill(byId("emergency-patient"), patient.wallet.address);
    await p.selectOption(byId("emergency-reason"), "1");
    p.once("dialog", (d) => d.accept());
    await p.click(byId("emergency-open"));
    await expectError(p, /named no emergency custodian, so break-glass access is off/);

    // The custodian holds an encryption key (registers as a patient); the patient
    // names it, and its keys for the two records are wrapped at once.
    const c = custodian.page;
    await connect(c);
    await c.click(byId("tab-patient"));
    await c.fill(byId("patient-passphrase"), "custodian passphrase");
    await c.click(byId("register-patient"));
    await c.waitForSelector(byId("patient-view"));
    const pp = patient.page;
    await pp.waitForSelector(byId("no-custodians"));
    await pp.fill(byId("custodians-input"), custodian.wallet.address);
    await pp.click(byId("save-custodians"));
    await expectStatus(pp, /Emergency custodians saved: .*; 2 record\(s\) wrapped for the new one/);
    await pp.waitForSelector(`${byId("custodians-list")}:has-text("${custodian.wallet.address}")`);

    // The doctor opens with a reason; keys come from the custodians, not yet here.
    p.once("dialog", (d) => d.accept());
    await p.click(byId("emergency-open"));
    await expectStatus(p, /Emergency access to .* open until .*Record keys come from the patient's emergency custodians/);
    await p.fill(byId("open-id"), "2");
    await p.click(byId("open-2"));
    await expectError(p, /has no key for you yet/);

    // No custodian agent runs here: the patient's "Share keys" wraps for the
    // doctor, but only after a dialog that names the doctor and the reason.
    const asked = new Promise((resolve) =>
      pp.once("dialog", async (d) => {
        const text = d.message();
        await d.accept();
        resolve(text);
      }),
    );
    await pp.click(byId("sync-keys"));
    const question = await asked;
    if (!question.toLowerCase().includes(me) || !/unconscious or unable to consent/.test(question)) {
      throw new Error(`the confirmation does not name the doctor and the reason: ${question}`);
    }
    // Record 1's new version and record 2: neither was wrapped for the doctor.
    await expectStatus(pp, /^2 record\(s\) gained keys/);
    await p.click(byId("open-2"));
    await expectStatus(p, new RegExp(`Record 2 v1: ${later.length} bytes decrypted`));
    const [download] = await Promise.all([p.waitForEvent("download"), p.click(byId("download-2"))]);
    if (!readFileSync(await download.path()).equals(later)) throw new Error("the break-glass download differs");
    await p.fill(byId("open-id"), "1");
    await p.click(byId("open-1"));
    await expectStatus(p, new RegExp(`Record 1 v2: ${original.length} bytes decrypted`));
    await shot(p, "6-doctor-break-glass");

    // The patient's panel shows the opening with its reason; closing it bars the
    // doctor for 30 days, until the patient lifts the bar.
    await pp.waitForSelector(`${byId(`emergency-${me}`)}:has-text("unconscious or unable to consent")`);
    // The patient confirmed an address: the opening is mailed to them.
    const alert = await waitForMail(mail.maildir, patientEmail, /^Subject: CareLedger: emergency access opened/m);
    if (!/unconscious or unable to consent/.test(mailBody(alert))) throw new Error("the patient's break-glass mail does not give the reason");
    await pp.click(byId(`close-emergency-${me}`));
    await expectStatus(pp, /closed; that doctor is barred from break-glass on your records until/);
    await pp.waitForSelector(`${byId(`emergency-status-${me}`)}:has-text("barred until")`);
    await shot(pp, "6b-patient-emergency-panel");
    p.once("dialog", (d) => d.accept());
    await p.click(byId("emergency-open"));
    await expectError(p, /barred it until .*only the patient can lift the bar/);
    await pp.click(byId(`lift-bar-${me}`));
    await expectStatus(pp, /The bar on .* is lifted/);
    await pp.waitForSelector(`${byId(`emergency-status-${me}`)}:has-text("bar lifted")`);
  });

  await check("the patient's audit trail shows the grant, the reads, the revocation and the break-glass", async () => {
    const p = patient.page;
    const short = `${doctorAddr.slice(0, 6)}…${doctorAddr.slice(-4)}`;
    const needles = [
      "grant 1: all records", "read record 1 v1", "grant 1 revoked", "break-glass access until",
      "because the patient is unconscious or unable to consent", "read record 2 v1", "read record 1 v2",
      "doctor barred until", "break-glass bar lifted", "licence approved by verifier",
    ];
    // The page learns of the doctor's last read from the live poll.
    for (const until = Date.now() + 15_000; ; ) {
      const rows = await p.$$eval('[data-testid="audit-table"] tbody tr', (trs) => trs.map((tr) => tr.textContent));
      const missing = needles.filter((n) => !rows.some((r) => r.includes(n) && r.includes(short)));
      if (missing.length === 0) break;
      if (Date.now() > until) throw new Error(`audit trail lacks ${missing.join(", ")} by ${short}: ${rows.join(" | ")}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    await shot(p, "7-patient-audit");
  });

  // Moves the devnode's clock and mines a block at the new time.
  const advance = async (seconds) => {
    for (const [method, params] of [["evm_increaseTime", [seconds]], ["evm_mine", []]]) {
      const res = await fetch(ready.rpcUrl, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
      });
      const body = await res.json();
      if (body.error) throw new Error(`${method}: ${JSON.stringify(body.error)}`);
    }
  };

  await check("a grant that expires: read inside it, refused after it, shown as expired", async () => {
    const p = patient.page;
    await p.fill(byId("grant-doctor"), doctorAddr);
    await p.fill(byId("grant-scope"), "records:2");
    await p.fill(byId("grant-expiry"), "1d");
    await p.click(byId("grant"));
    await expectStatus(p, /Granted .* \(grant 2\)/);
    // Past the 4-hour break-glass window (closed anyway), inside the grant: the grant alone lets the doctor read.
    await advance(5 * 3600);
    const d = doctor.page;
    await d.fill(byId("open-id"), "2");
    await d.click(byId("open-2"));
    await expectStatus(d, new RegExp(`Record 2 v1: ${later.length} bytes decrypted`));
    // The patient's page takes in that read (a second's poll) while the grant is active.
    await p.waitForTimeout(2500);
    if (!/active/.test(await p.textContent(byId("grant-status-2")))) throw new Error("grant 2 is not active at +5 h");
    await advance(2 * 86400);
    await d.click(byId("open-2"));
    await expectError(d, /Access denied: .* has no valid grant for record 2/);
    // The refresh after the refused action shows why.
    await d.waitForSelector(`${byId("received-2")}:has-text("expired")`);
    await shot(d, "7b-doctor-refused-after-expiry");
    // The patient did nothing and no event came: the half-minute re-read shows it.
    await p.waitForSelector(`${byId("grant-status-2")}:has-text("expired")`, { timeout: 45_000 });
  });

  // `careledger --json ARGS` as `account` on the demo's chain and store.
  const cliAs = (account, passphrase) => (...args) => {
    const r = spawnSync(BIN, ["--rpc-url", ready.rpcUrl, "--deployment", join(scratch, "deployment.json"), "--store", ready.store, "--json", ...args], {
      env: { PATH: process.env.PATH, CARELEDGER_PRIVATE_KEY: account.privateKey, CARELEDGER_WEB_PASSPHRASE: passphrase },
      encoding: "utf8",
      timeout: 60_000,
    });
    if (r.status !== 0) throw new Error(`careledger ${args.join(" ")}: exit ${r.status}: ${r.stderr}`);
    return JSON.parse(r.stdout);
  };

  await check("the patient's key backup opens their record in the CLI (--web-key)", async () => {
    const p = patient.page;
    const [download] = await Promise.all([p.waitForEvent("download"), p.click(byId("backup-key"))]);
    const backup = await download.path();
    const file = JSON.parse(readFileSync(backup, "utf8"));
    if (file.kdf !== "scrypt" || !file.ciphertext) throw new Error(`backup is not a locked key file: ${JSON.stringify(file)}`);
    const out = join(plainDir, "cli-read.bin"); // plaintext: outside the scanned scratch
    cliAs(free[0], "patient passphrase")("record", "get", "1", "-o", out, "--web-key", backup);
    if (!readFileSync(out).equals(original)) throw new Error("the CLI's plaintext differs from what the browser sealed");
  });

  await check("one format: a record the CLI added opens in the browser with the CLI's exported key", async () => {
    const cliUser = free[3];
    const cliPlain = Buffer.concat([Buffer.from(`${canary} from the CLI\n`), randomBytes(300_000)]);
    const plainFile = join(plainDir, "cli-record.bin");
    const keyFile = join(scratch, "cli-key.json");
    writeFileSync(plainFile, cliPlain);
    const cli = cliAs(cliUser, "cli passphrase");
    cli("patient", "register");
    const added = cli("record", "add", plainFile, "--category", "imaging");
    cli("keys", "export-web", keyFile);
    const id = added.recordId;
    const { page: p } = await rolePage(ready, cliUser);
    await connect(p);
    await p.click(byId("tab-patient"));
    await p.waitForSelector(byId("key-missing"));
    await p.setInputFiles(byId("import-key-file"), keyFile);
    await p.fill(byId("import-key-passphrase"), "wrong passphrase");
    await p.click(byId("import-key"));
    await expectError(p, /Wrong passphrase for this key file/);
    await p.fill(byId("import-key-passphrase"), "cli passphrase");
    await p.click(byId("import-key"));
    await expectStatus(p, /Key imported and unlocked/);
    await p.click(byId(`open-${id}`));
    await expectStatus(p, new RegExp(`Record ${id} v1: ${cliPlain.length} bytes decrypted`));
    const [download] = await Promise.all([p.waitForEvent("download"), p.click(byId(`download-${id}`))]);
    if (!readFileSync(await download.path()).equals(cliPlain)) throw new Error("the browser's plaintext differs from what the CLI sealed");
    await shot(p, "8-cli-key-imported");
  });

  await check("a wallet on the wrong network is detected and switched", async () => {
    const wrong = await rolePage(ready, free[2], { startChainId: 1 });
    const p = wrong.page;
    await connect(p);
    const banner = await p.textContent(byId("wrong-network"));
    if (!/Wrong network: your wallet is on chain 1/.test(banner)) throw new Error(`banner says: ${banner}`);
    await shot(p, "9-wrong-network");
    await p.click(byId("switch-network"));
    await p.waitForSelector(byId("wrong-network"), { state: "detached" });
    await p.waitForSelector(byId("tab-patient"));
  });

  await check("the canary is in no block of the store, no mail and no log", async () => {
    if (!ready.store) throw new Error("demo did not say where its store is");
    const needle = Buffer.from(canary);
    for (const f of [...filesUnder(ready.store), ...filesUnder(scratch)]) {
      if (readFileSync(f).includes(needle)) throw new Error(`${f} holds the plaintext canary`);
    }
  });
  await finish(0);
} catch (e) {
  if (results.every((r) => r.ok)) {
    results.push({ name: "setup", ok: false });
    console.error(`  FAIL setup: ${e?.stack ?? e}`);
  }
  await finish(1);
}
