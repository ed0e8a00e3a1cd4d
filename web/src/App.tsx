// The shell: configuration, the wallet and its network, the role tabs, the
// status and error lines, and live updates from the chain.
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { getAddress, type Address } from "viem";
import { loadConfig, type AppConfig } from "./config";
import { describeError } from "./errors";
import { Ledger, type LedgerEvent, type Role } from "./ledger";
import { follow } from "./live";
import { SessionContext, type Session } from "./session";
import { loadVault } from "./vault";
import { injected, requestAccount, switchToChain, walletChainId, type Eip1193 } from "./wallet";
import { KeyPanel } from "./views/KeyPanel";
import { PatientView } from "./views/PatientView";
import { DoctorView } from "./views/DoctorView";
import { VerifierView } from "./views/VerifierView";
import { Activity } from "./views/Activity";
import { shortAddress } from "./scope";

type Tab = "patient" | "doctor" | "verifier";

export function App() {
  const [cfg, setCfg] = useState<AppConfig | null>(null);
  const [fatal, setFatal] = useState<string | null>(null);
  const [provider] = useState<Eip1193 | undefined>(() => injected());
  const [account, setAccount] = useState<Address | null>(null);
  const [walletChain, setWalletChain] = useState<number | null>(null);
  const [error, setError] = useState<{ message: string; wrongNetwork?: boolean } | null>(null);
  const [status, setStatus] = useState<string>("");
  const [busy, setBusy] = useState(false);
  const [bar, setBar] = useState<{ stage: string; done: number; total: number } | null>(null);
  const [events, setEvents] = useState<LedgerEvent[]>([]);
  const [role, setRole] = useState<Role | null>(null);
  const [tick, setTick] = useState(0);
  const [tab, setTab] = useState<Tab | null>(null);
  const [secret, setSecret] = useState<Uint8Array | null>(null);
  const [live, setLive] = useState<LedgerEvent[]>([]);

  useEffect(() => {
    Promise.all([loadConfig(), loadVault()])
      .then(([c]) => setCfg(c))
      .catch((e) => setFatal(describeError(e).message));
  }, []);

  // The wallet's chain and account, followed as the user changes them.
  useEffect(() => {
    if (!provider) return;
    const onChain = (id: unknown) => setWalletChain(Number(BigInt(id as string)));
    const onAccounts = (a: unknown) => {
      const list = a as string[];
      setSecret(null);
      setAccount(list?.length ? getAddress(list[0]) : null);
    };
    walletChainId(provider).then(setWalletChain, () => setWalletChain(null));
    provider.on?.("chainChanged", onChain);
    provider.on?.("accountsChanged", onAccounts);
    return () => {
      provider.removeListener?.("chainChanged", onChain);
      provider.removeListener?.("accountsChanged", onAccounts);
    };
  }, [provider]);

  const onRightChain = cfg !== null && walletChain === cfg.chainId;
  const ledger = useMemo(
    () => (cfg && provider && account && onRightChain ? new Ledger(cfg, provider, account) : null),
    [cfg, provider, account, onRightChain],
  );

  const refresh = useCallback(() => setTick((t) => t + 1), []);

  // Events and the account's role, reloaded on every tick.
  useEffect(() => {
    if (!ledger) return;
    let gone = false;
    Promise.all([ledger.events(), ledger.role()])
      .then(([ev, r]) => {
        if (gone) return;
        setEvents(ev);
        setRole(r);
        setTab((t) => t ?? (r.isVerifier ? "verifier" : r.doctorStatus !== "none" ? "doctor" : "patient"));
      })
      .catch((e) => !gone && setError(describeError(e)));
    return () => {
      gone = true;
    };
  }, [ledger, tick]);

  // Expiries pass without an event: statuses ("active", "expired") are re-read
  // every half minute as well.
  useEffect(() => {
    if (!ledger) return;
    const timer = setInterval(refresh, 30_000);
    return () => clearInterval(timer);
  }, [ledger, refresh]);

  // Live: a new event of ours refreshes every view.
  const seen = useRef(new Set<string>());
  useEffect(() => {
    if (!ledger || !cfg) return;
    return follow(
      ledger.client,
      [cfg.patientRegistry, cfg.accessToken, cfg.recordRegistry],
      (evs) => {
        const fresh = evs.filter((e) => !seen.current.has(`${e.tx}:${e.logIndex}`));
        fresh.forEach((e) => seen.current.add(`${e.tx}:${e.logIndex}`));
        if (fresh.length) {
          setLive((l) => [...fresh.reverse(), ...l].slice(0, 30));
          refresh();
        }
      },
      () => {
        /* a missed poll is retried on the next one */
      },
    );
  }, [ledger, cfg, refresh]);

  const run = useCallback(
    async (label: string, work: () => Promise<string | void>) => {
      setBusy(true);
      setError(null);
      setStatus(`${label}…`);
      try {
        const done = await work();
        setStatus(done || `${label}: done`);
        return true;
      } catch (e) {
        setStatus("");
        setError(describeError(e));
        return false;
      } finally {
        setBusy(false);
        setBar(null);
        refresh();
      }
    },
    [refresh],
  );

  const connect = async () => {
    if (!provider) return;
    setError(null);
    try {
      setAccount(await requestAccount(provider));
      setWalletChain(await walletChainId(provider));
    } catch (e) {
      setError(describeError(e));
    }
  };

  const switchNetwork = async () => {
    if (!provider || !cfg) return;
    try {
      await switchToChain(provider, cfg);
      setWalletChain(await walletChainId(provider));
      setError(null);
    } catch (e) {
      setError(describeError(e));
    }
  };

  if (fatal) return <main className="shell"><h1>CareLedger</h1><p role="alert" className="error" data-testid="fatal">{fatal}</p></main>;
  if (!cfg) return <main className="shell"><h1>CareLedger</h1><p>Loading…</p></main>;

  const session: Session | null =
    ledger && account && role
      ? {
          cfg,
          account,
          ledger,
          role,
          events,
          tick,
          secret,
          setSecret,
          run,
          refresh,
          progress: (stage, done, total) => setBar({ stage, done, total }),
        }
      : null;

  return (
    <main className="shell">
      <header>
        <h1>CareLedger</h1>
        <span className="chain" data-testid="chain">{cfg.chainName} · chain {cfg.chainId}</span>
        {account ? (
          <span className="account" data-testid="account" title={account}>{shortAddress(account)}</span>
        ) : (
          <button onClick={connect} disabled={!provider} data-testid="connect">Connect wallet</button>
        )}
      </header>
      {!provider && <p className="error" role="alert" data-testid="no-wallet">No wallet found: install an EIP-1193 wallet such as MetaMask, then reload.</p>}
      {account && walletChain !== null && walletChain !== cfg.chainId && (
        <div className="banner" role="alert" data-testid="wrong-network">
          Wrong network: your wallet is on chain {walletChain}, CareLedger runs on {cfg.chainName} (chain {cfg.chainId}).
          <button onClick={switchNetwork} data-testid="switch-network">Switch to {cfg.chainName}</button>
        </div>
      )}
      {error && (
        <div className="error" role="alert" data-testid="error">
          {error.message}
          {error.wrongNetwork && <button onClick={switchNetwork}>Switch network</button>}
        </div>
      )}
      {(status || busy) && <p className="status" data-testid="status">{status}</p>}
      {bar && (
        <p className="progress">
          {bar.stage} <progress data-testid="progress" value={bar.done} max={Math.max(bar.total, 1)} /> {Math.round((100 * bar.done) / Math.max(bar.total, 1))}%
        </p>
      )}
      {session && (
        <SessionContext.Provider value={session}>
          <nav>
            {(["patient", "doctor", "verifier"] as Tab[]).map((t) => (
              <button key={t} className={tab === t ? "active" : ""} onClick={() => setTab(t)} data-testid={`tab-${t}`}>
                {t[0].toUpperCase() + t.slice(1)}
              </button>
            ))}
          </nav>
          <KeyPanel />
          <fieldset disabled={busy}>
            {tab === "patient" && <PatientView />}
            {tab === "doctor" && <DoctorView />}
            {tab === "verifier" && <VerifierView />}
          </fieldset>
          <Activity events={live} />
        </SessionContext.Provider>
      )}
    </main>
  );
}
