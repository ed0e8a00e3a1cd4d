// Grant scopes, categories and expiries, read the way the CLI reads them
// (`careledger grant --scope … --expires …`), so both put the same values on chain.
import { isHex, type Hex } from "viem";

export const ZERO32: Hex = `0x${"0".repeat(64)}`;

/** The patient's own code of a normalised category name (the vault's
 * `categoryCode` under the patient's secret): names never go on chain. */
export type CategoryCoder = (name: string) => Hex;

/** Category names the patient's pages try when showing a code back as a name
 * (careledger-vault's COMMON_CATEGORIES). */
export const COMMON_CATEGORIES = [
  "lab", "imaging", "prescription", "letter", "vaccination", "allergy", "psychiatry", "hiv", "genetics",
  "discharge", "referral", "surgery", "oncology", "cardiology", "pregnancy", "sexual-health", "mental-health", "dental",
] as const;

/** The form of a category name that is coded: trimmed and lower-cased. */
export const normaliseCategory = (name: string): string => name.trim().toLowerCase();

/** A category ("lab", "imaging") as the bytes32 on chain: the patient's own code
 * of the name (`code`), or a 0x-prefixed 32-byte value as is; empty is "no category". */
export function categoryCode(name: string, code: CategoryCoder): Hex {
  const t = name.trim();
  if (t.startsWith("0x") && isHex(t) && t.length === 66) return t.toLowerCase() as Hex;
  if (t === "") return ZERO32;
  return code(normaliseCategory(t));
}

/** How the patient's page shows a category code: "-" for none, the name when it
 * is one the page knows (with `code`, the patient's own coder), else "private". */
export function categoryLabel(category: Hex, code?: CategoryCoder, extra: readonly string[] = []): string {
  if (category.toLowerCase() === ZERO32) return "-";
  if (code) {
    for (const n of [...extra, ...COMMON_CATEGORIES]) {
      const name = normaliseCategory(n);
      if (name !== "" && code(name).toLowerCase() === category.toLowerCase()) return name;
    }
  }
  return "private";
}

export type Scope =
  | { kind: "all" }
  | { kind: "records"; ids: bigint[] }
  | { kind: "category"; code: string };

export const SCOPE_KIND = { all: 0, records: 1, category: 2 } as const;

export class InputError extends Error {}

/** `all`, `records:1,2,3` or `category:CODE`. */
export function parseScope(s: string): Scope {
  const bad = () => new InputError(`scope "${s}": expected all, records:ID[,ID…] or category:CODE`);
  const i = s.indexOf(":");
  const kind = (i < 0 ? s : s.slice(0, i)).trim();
  const rest = i < 0 ? "" : s.slice(i + 1);
  if (kind === "all" && rest === "") return { kind: "all" };
  if (kind === "records") {
    const ids = rest.split(",").map((x) => {
      const t = x.trim();
      if (!/^[0-9]+$/.test(t)) throw bad();
      return BigInt(t);
    });
    if (ids.length === 0 || ids.some((id) => id === 0n)) throw bad();
    return { kind: "records", ids };
  }
  if (kind === "category" && rest.trim() !== "") return { kind: "category", code: rest.trim() };
  throw bad();
}

/** The arguments of `AccessToken.grant` after the doctor and the expiry. */
export function scopeArgs(scope: Scope, code: CategoryCoder): { scopeKind: number; category: Hex; recordIds: bigint[] } {
  switch (scope.kind) {
    case "all":
      return { scopeKind: SCOPE_KIND.all, category: ZERO32, recordIds: [] };
    case "records":
      return { scopeKind: SCOPE_KIND.records, category: ZERO32, recordIds: scope.ids };
    case "category":
      return { scopeKind: SCOPE_KIND.category, category: categoryCode(scope.code, code), recordIds: [] };
  }
}

const UNITS: Record<string, bigint> = { s: 1n, m: 60n, h: 3600n, d: 86400n, w: 604800n };

/** The furthest ahead a grant may end: 100 years (36,525 days), as the CLI. */
export const MAX_EXPIRY_AHEAD = 36525n * 86400n;

/** A duration from `now` (a whole number and one unit of s, m, h, d, w: `30d`,
 * `12h`), a date (`2027-01-31`, midnight UTC), a UTC time (`2027-01-31T12:00:00Z`)
 * or unix seconds; always in the future of `now` (chain time) and at most 100
 * years ahead. The same grammar as the CLI's `--expires`: `30 d`, `30d30d` or
 * `90min` are refused, not guessed at. */
export function parseExpiry(s: string, now: bigint): bigint {
  const t = s.trim();
  const bad = (why: string) => new InputError(`expiry "${s}": ${why}`);
  let at: bigint;
  const duration = /^([0-9]+)([smhdw])$/.exec(t);
  if (/^[0-9]+$/.test(t)) {
    at = BigInt(t);
  } else if (duration) {
    const count = BigInt(duration[1]);
    if (count === 0n) throw bad("is a duration of zero");
    at = now + count * UNITS[duration[2]];
  } else if (/^\d{4}-\d{2}-\d{2}$/.test(t) || /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/.test(t)) {
    const ms = Date.parse(t.length === 10 ? `${t}T00:00:00Z` : t);
    // Date.parse rolls 2030-02-31 over into March: a day it changed is not one that exists.
    if (Number.isNaN(ms) || new Date(ms).toISOString().slice(0, 10) !== t.slice(0, 10)) throw bad("is not a real date");
    at = BigInt(Math.floor(ms / 1000));
  } else {
    throw bad("expected a duration (30d: one number, one unit of s, m, h, d, w), a date (2027-01-31), a UTC time (2027-01-31T12:00:00Z) or unix seconds");
  }
  if (at <= now) throw bad("is not in the future");
  if (at - now > MAX_EXPIRY_AHEAD) throw bad("is more than 100 years ahead: grant for less and grant again later");
  return at;
}

/** Unix seconds as an ISO time; anything that is not a time is shown as it is. */
export function formatTime(secs: unknown): string {
  const n = Number(secs);
  if (n === 0) return "—";
  const d = new Date(n * 1000);
  return Number.isNaN(d.getTime()) ? String(secs) : d.toISOString().replace(".000Z", "Z");
}

export function shortAddress(a: string): string {
  return a.length > 12 ? `${a.slice(0, 6)}…${a.slice(-4)}` : a;
}

/** The same address, whatever the case of its hex digits. */
export function same(a: unknown, b: unknown): boolean {
  return typeof a === "string" && typeof b === "string" && a.toLowerCase() === b.toLowerCase();
}
