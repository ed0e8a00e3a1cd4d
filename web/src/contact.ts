// The notifier's directory: a doctor's or a patient's email address, registered by a
// signed EIP-712 request (the same typed data as crates/contact, which the notifier
// checks) and confirmed with the code the notifier mails to it (double opt-in).
//
//   GET  /v1/contacts/{account}/nonce    {"account", "nextNonce"}   (u64: number or decimal string)
//   POST /v1/contacts                    signed RegisterContact  → 202 {"status": "pending", "expiresAt"}
//   POST /v1/contacts/confirm            {"account", "code"}     → 200 {"status": "confirmed"};
//                                        403 wrong code, 404 nothing pending, 429 attempts used up
//   GET  /v1/contacts/{account}/status   {"status": "none" | "pending" | "confirmed"}
//
// Every call has a deadline and reads at most MAX_ANSWER_BYTES of the answer.
import type { Address, WalletClient } from "viem";
import { UserFacingError } from "./errors";

export const CONTACT_TYPES = {
  RegisterContact: [
    { name: "account", type: "address" },
    { name: "email", type: "string" },
    { name: "nonce", type: "uint64" },
    { name: "expiry", type: "uint64" },
  ],
} as const;

export function contactDomain(chainId: number, patientRegistry: Address) {
  return { name: "CareLedger Notifier", version: "1", chainId, verifyingContract: patientRegistry } as const;
}

export function validEmail(email: string): boolean {
  return /^[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+$/.test(email) && email.length <= 254;
}

/** Where an account's address stands in the notifier's directory. */
export type ContactStatus = "none" | "pending" | "confirmed";
export const CONTACT_STATUSES: readonly ContactStatus[] = ["none", "pending", "confirmed"];

/** The letters and digits of a confirmation code (no I, L, O, 0 or 1). */
export const CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789";
export const CODE_LENGTH = 8;

/** How long one call to the notifier may take, answer included. */
export const NOTIFIER_TIMEOUT_MS = 15_000;
/** The largest answer read from the notifier: its answers are a few hundred bytes. */
export const MAX_ANSWER_BYTES = 16 * 1024;

const U64_MAX = (1n << 64n) - 1n;

export interface NotifierOptions {
  fetchFn?: typeof fetch;
  timeoutMs?: number;
}

export interface Registration {
  /** "pending" until the mailed code is confirmed; "confirmed" from a notifier without double opt-in. */
  status: "pending" | "confirmed";
  /** Unix seconds when the pending registration (and its code) lapses, if the notifier said. */
  expiresAt: number | null;
}

/** A code as typed (any case, spaces or dashes) in the mailed form, or null if it cannot be one. */
export function normaliseCode(input: string): string | null {
  const code = input.replace(/[\s-]+/g, "").toUpperCase();
  if (code.length !== CODE_LENGTH) return null;
  for (const c of code) if (!CODE_ALPHABET.includes(c)) return null;
  return code;
}

/** JSON.parse, except that an integer too large for a JS number is kept exact as
 * its decimal string (JSON.parse would round 9007199254740993 to …992). */
export function parseJsonExact(text: string): unknown {
  let out = "";
  let i = 0;
  const number = /-?\d+(\.\d+)?([eE][+-]?\d+)?/y;
  while (i < text.length) {
    const c = text[i];
    if (c === '"') {
      // A string, copied as it is (escapes included).
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === "\\" ? 2 : 1;
      out += text.slice(i, j + 1);
      i = j + 1;
    } else if (c === "-" || (c >= "0" && c <= "9")) {
      number.lastIndex = i;
      const m = number.exec(text);
      if (!m) {
        out += c;
        i++;
        continue;
      }
      const tok = m[0];
      const integer = m[1] === undefined && m[2] === undefined;
      out += integer && !Number.isSafeInteger(Number(tok)) ? `"${tok}"` : tok;
      i += tok.length;
    } else {
      out += c;
      i++;
    }
  }
  return JSON.parse(out);
}

/** A u64 from a JSON value: a safe integer, or a decimal string (any size up to 2^64 - 1). */
export function toU64(v: unknown): bigint | null {
  let n: bigint;
  if (typeof v === "number" && Number.isSafeInteger(v)) n = BigInt(v);
  else if (typeof v === "string" && /^[0-9]{1,20}$/.test(v)) n = BigInt(v);
  else return null;
  return n >= 0n && n <= U64_MAX ? n : null;
}

/** Reads at most `max` bytes of `res`'s body as text; a longer answer is refused. */
export async function readBounded(res: Response, max: number = MAX_ANSWER_BYTES): Promise<string> {
  const declared = Number(res.headers.get("content-length") ?? "0");
  if (declared > max) {
    await res.body?.cancel().catch(() => {});
    throw new UserFacingError(`The notifier's answer is too large (${declared} bytes, at most ${max}).`);
  }
  if (!res.body) return "";
  const reader = res.body.getReader();
  const parts: Uint8Array[] = [];
  let n = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    n += value.length;
    if (n > max) {
      await reader.cancel().catch(() => {});
      throw new UserFacingError(`The notifier's answer is too large (more than ${max} bytes).`);
    }
    parts.push(value);
  }
  const all = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    all.set(p, at);
    at += p.length;
  }
  return new TextDecoder().decode(all);
}

interface Answer {
  status: number;
  body: Record<string, unknown>;
}

/** One call to the notifier: answer read within the deadline and the size bound. */
async function call(notifier: string, path: string, init: RequestInit, opts: NotifierOptions): Promise<Answer> {
  const fetchFn = opts.fetchFn ?? ((...a) => fetch(...a));
  const timeoutMs = opts.timeoutMs ?? NOTIFIER_TIMEOUT_MS;
  const ctl = new AbortController();
  const limit = timeoutMs >= 1000 ? `${Math.round(timeoutMs / 1000)} s` : `${timeoutMs} ms`;
  const late = () => new UserFacingError(`The notifier at ${notifier} did not answer within ${limit}.`);
  let timer: ReturnType<typeof setTimeout> | undefined;
  // Rejects at the deadline even if `fetchFn` or the body stream ignores the signal.
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      ctl.abort();
      reject(late());
    }, timeoutMs);
  });
  deadline.catch(() => {});
  try {
    let res: Response;
    try {
      res = await Promise.race([fetchFn(`${notifier}${path}`, { ...init, signal: ctl.signal }), deadline]);
    } catch (e) {
      if (ctl.signal.aborted) throw late();
      if (e instanceof UserFacingError) throw e;
      throw new UserFacingError(`The notifier at ${notifier} cannot be reached.`);
    }
    let text: string;
    try {
      text = await Promise.race([readBounded(res), deadline]);
    } catch (e) {
      if (e instanceof UserFacingError) throw e;
      throw ctl.signal.aborted ? late() : new UserFacingError(`The notifier at ${notifier} broke off its answer.`);
    }
    let body: Record<string, unknown> = {};
    try {
      const parsed = text ? parseJsonExact(text) : {};
      if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) body = parsed as Record<string, unknown>;
    } catch {
      /* not JSON: the status speaks */
    }
    return { status: res.status, body };
  } finally {
    clearTimeout(timer);
  }
}

function reason(a: Answer): string {
  const r = a.body.error ?? a.body.message;
  return typeof r === "string" && r ? r : `HTTP ${a.status}`;
}

function refused(a: Answer): UserFacingError {
  return new UserFacingError(`The notifier refused: ${reason(a)}`);
}

const json = (body: unknown): RequestInit => ({
  method: "POST",
  headers: { "content-type": "application/json" },
  body: JSON.stringify(body),
});

/** The next nonce `account` may sign, exact as a u64 whether the notifier wrote it as
 * a number (parsed from the raw text, never through a rounded JS number) or a string. */
export async function nextNonce(notifier: string, account: Address, opts: NotifierOptions = {}): Promise<bigint> {
  const a = await call(notifier, `/v1/contacts/${account}/nonce`, { method: "GET" }, opts);
  if (a.status < 200 || a.status > 299) throw refused(a);
  const nonce = toU64(a.body.nextNonce);
  if (nonce === null) throw new UserFacingError("The notifier answered no valid nonce.");
  return nonce;
}

/** Where `account`'s address stands: none, pending (a code was mailed) or confirmed. */
export async function contactStatus(notifier: string, account: Address, opts: NotifierOptions = {}): Promise<ContactStatus> {
  const a = await call(notifier, `/v1/contacts/${account}/status`, { method: "GET" }, opts);
  if (a.status < 200 || a.status > 299) throw refused(a);
  const s = a.body.status;
  if (typeof s !== "string" || !(CONTACT_STATUSES as readonly string[]).includes(s)) {
    throw new UserFacingError("The notifier answered no valid status.");
  }
  return s as ContactStatus;
}

/** Signs and posts `email` for `account`. With a double opt-in notifier the address
 * is pending until the code mailed to it is confirmed (see confirmContact). */
export async function registerContact(
  notifier: string,
  wallet: WalletClient,
  account: Address,
  chainId: number,
  patientRegistry: Address,
  email: string,
  fetchFn?: typeof fetch,
  opts: NotifierOptions = {},
): Promise<Registration> {
  if (!validEmail(email)) throw new UserFacingError(`"${email}" is not an email address.`);
  const o = { ...opts, fetchFn: fetchFn ?? opts.fetchFn };
  const nonce = await nextNonce(notifier, account, o);
  const expiry = BigInt(Math.floor(Date.now() / 1000) + 600);
  const signature = await wallet.signTypedData({
    account,
    domain: contactDomain(chainId, patientRegistry),
    types: CONTACT_TYPES,
    primaryType: "RegisterContact",
    message: { account, email, nonce, expiry },
  });
  if (typeof signature !== "string" || !/^0x[0-9a-fA-F]{130}$/.test(signature)) {
    throw new UserFacingError("The wallet returned no signature.");
  }
  // The nonce as a decimal string: exact above 2^53 (the notifier takes both forms).
  const a = await call(notifier, "/v1/contacts", json({ account, email, nonce: nonce.toString(), expiry: Number(expiry), signature }), o);
  if (a.status < 200 || a.status > 299) throw refused(a);
  if (a.status === 202 || a.body.status === "pending") {
    const at = toU64(a.body.expiresAt);
    return { status: "pending", expiresAt: at === null ? null : Number(at) };
  }
  // An older notifier: the address is active at once.
  return { status: "confirmed", expiresAt: null };
}

/** A refused confirmation: a wrong code (try again), or a registration that is gone
 * (expired or never made: 404; dropped after too many wrong codes: 429). */
export class ConfirmError extends UserFacingError {
  constructor(
    message: string,
    readonly reason: "wrong-code" | "not-pending" | "too-many-attempts",
  ) {
    super(message);
  }
  /** The registration is gone: only a new one gets a new code. */
  get registerAgain(): boolean {
    return this.reason !== "wrong-code";
  }
}

/** Confirms `account`'s pending address with the code mailed to it; each refusal in words. */
export async function confirmContact(notifier: string, account: Address, code: string, opts: NotifierOptions = {}): Promise<void> {
  const c = normaliseCode(code);
  if (c === null) {
    throw new UserFacingError(`A confirmation code is ${CODE_LENGTH} letters and digits, as in the mail (no I, L, O, 0 or 1).`);
  }
  const a = await call(notifier, "/v1/contacts/confirm", json({ account, code: c }), opts);
  if (a.status >= 200 && a.status <= 299) return;
  switch (a.status) {
    case 403:
      throw new ConfirmError(`That code is not the one mailed to you (${reason(a)}): check the mail and try again.`, "wrong-code");
    case 404:
      throw new ConfirmError(
        "No registration is waiting for a code: it has expired or was never made. Register your address again for a new code.",
        "not-pending",
      );
    case 429:
      throw new ConfirmError(
        "Too many wrong codes: the notifier dropped this registration. Register your address again for a new code.",
        "too-many-attempts",
      );
    default:
      throw refused(a);
  }
}
