// What every view needs: the deployment, the connected account's ledger, its
// unlocked X25519 secret (memory only), the chain's events, and one place to
// report progress and errors.
import { createContext, useContext } from "react";
import type { Address } from "viem";
import type { AppConfig } from "./config";
import type { Ledger, LedgerEvent, Role } from "./ledger";

export interface Session {
  cfg: AppConfig;
  account: Address;
  ledger: Ledger;
  role: Role;
  events: LedgerEvent[];
  /** Bumped on every new block with events of ours: views reload. */
  tick: number;
  secret: Uint8Array | null;
  setSecret(secret: Uint8Array | null): void;
  /** Runs `work` with the status line set, reports its error readably, refreshes after. */
  run(label: string, work: () => Promise<string | void>): Promise<boolean>;
  progress(stage: string, done: number, total: number): void;
  refresh(): void;
}

export const SessionContext = createContext<Session | null>(null);

export function useSession(): Session {
  const s = useContext(SessionContext);
  if (!s) throw new Error("useSession outside a connected session");
  return s;
}
