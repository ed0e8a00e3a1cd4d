// The deployment the app talks to, from /careledger.json (written by
// `careledger ipfs serve --web` and `careledger demo --web`).
import { getAddress, isAddress, type Address } from "viem";

export interface AppConfig {
  chainId: number;
  chainName: string;
  rpcUrl: string;
  patientRegistry: Address;
  accessToken: Address;
  recordRegistry: Address;
  deployBlock: bigint;
  /** Base URL of the kubo-style RPC API; "" is this page's own origin. */
  ipfsApi: string;
  /** The notifier's directory, or null when no notifier is configured. */
  notifier: string | null;
}

export class ConfigError extends Error {}

function field<T>(o: Record<string, unknown>, key: string, check: (v: unknown) => v is T, what: string): T {
  const v = o[key];
  if (!check(v)) throw new ConfigError(`careledger.json: "${key}" must be ${what}`);
  return v;
}

const isNumber = (v: unknown): v is number => typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
const isString = (v: unknown): v is string => typeof v === "string";
const isAddr = (v: unknown): v is string => typeof v === "string" && isAddress(v, { strict: false });

/** Checks every field: a wrong file gives one readable line, not a broken page. */
export function parseConfig(json: unknown): AppConfig {
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new ConfigError("careledger.json: expected a JSON object");
  }
  const o = json as Record<string, unknown>;
  const chainId = field(o, "chainId", isNumber, "a chain id");
  if (chainId === 0) throw new ConfigError('careledger.json: "chainId" must not be 0');
  const notifier = o.notifier ?? null;
  if (notifier !== null && !isString(notifier)) throw new ConfigError('careledger.json: "notifier" must be a URL or null');
  return {
    chainId,
    chainName: isString(o.chainName) && o.chainName ? o.chainName : `Chain ${chainId}`,
    rpcUrl: field(o, "rpcUrl", isString, "a URL"),
    patientRegistry: getAddress(field(o, "patientRegistry", isAddr, "an address")),
    accessToken: getAddress(field(o, "accessToken", isAddr, "an address")),
    recordRegistry: getAddress(field(o, "recordRegistry", isAddr, "an address")),
    deployBlock: BigInt(field(o, "deployBlock", isNumber, "a block number")),
    ipfsApi: isString(o.ipfsApi) ? o.ipfsApi.replace(/\/+$/, "") : "",
    notifier: notifier ? notifier.replace(/\/+$/, "") : null,
  };
}

export async function loadConfig(fetchFn: typeof fetch = fetch): Promise<AppConfig> {
  let res: Response;
  try {
    res = await fetchFn("./careledger.json", { cache: "no-store" });
  } catch {
    throw new ConfigError("cannot load careledger.json: is `careledger ipfs serve --web` running?");
  }
  if (!res.ok) {
    let reason = `HTTP ${res.status}`;
    try {
      const body = await res.json();
      if (body && typeof body.Message === "string") reason = body.Message;
      else if (body && typeof body.error === "string") reason = body.error;
    } catch {
      /* keep the status */
    }
    throw new ConfigError(`cannot load careledger.json: ${reason}`);
  }
  return parseConfig(await res.json());
}
