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

const UNITS: Record<string, number> = {
  s: 1, sec: 1, secs: 1, second: 1, seconds: 1,
  m: 60, min: 60, mins: 60, minute: 60, minutes: 60,
  h: 3600, hr: 3600, hour: 3600, hours: 3600,
  d: 86400, day: 86400, days: 86400,
  w: 604800, week: 604800, weeks: 604800,
};

/** A duration from `now` (`30d`, `12h`, `90min`), a date (`2027-01-31`), an
 * ISO time, or unix seconds; always in the future of `now` (chain time). */
export function parseExpiry(s: string, now: bigint): bigint {
  const t = s.trim();
  const bad = (why: string) => new InputError(`expiry "${s}": ${why}`);
  let at: bigint;
  const duration = /^([0-9]+)\s*([a-z]+)$/i.exec(t);
  if (/^[0-9]+$/.test(t)) {
    at = BigInt(t);
  } else if (duration) {
    const unit = UNITS[duration[2].toLowerCase()];
    if (unit === undefined) throw bad(`unknown unit "${duration[2]}"`);
    at = now + BigInt(duration[1]) * BigInt(unit);
  } else {
    const ms = Date.parse(t.length === 10 ? `${t}T00:00:00Z` : t);
    if (Number.isNaN(ms)) throw bad("expected a duration (30d), a date (2027-01-31) or unix seconds");
    at = BigInt(Math.floor(ms / 1000));
  }
  if (at <= now) throw bad("is not in the future");
  if (at >= 1n << 64n) throw bad("too far");
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
