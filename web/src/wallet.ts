// Any EIP-1193 wallet (MetaMask, Rabby, a test's injected provider): connect,
// follow its account and chain, and ask it to switch to CareLedger's chain.
import { getAddress, numberToHex, type Address } from "viem";
import type { AppConfig } from "./config";

export interface Eip1193 {
  request(args: { method: string; params?: unknown }): Promise<unknown>;
  on?(event: string, listener: (...args: unknown[]) => void): void;
  removeListener?(event: string, listener: (...args: unknown[]) => void): void;
}

export function injected(): Eip1193 | undefined {
  return (globalThis as { ethereum?: Eip1193 }).ethereum;
}

export async function requestAccount(p: Eip1193): Promise<Address> {
  const accounts = (await p.request({ method: "eth_requestAccounts" })) as string[];
  if (!accounts?.length) throw new Error("The wallet shared no account.");
  return getAddress(accounts[0]);
}

export async function walletChainId(p: Eip1193): Promise<number> {
  return Number(BigInt((await p.request({ method: "eth_chainId" })) as string));
}

/** Switches the wallet to the deployment's chain, adding it first if the wallet
 * does not know it (error 4902). */
export async function switchToChain(p: Eip1193, cfg: AppConfig): Promise<void> {
  const chainId = numberToHex(cfg.chainId);
  try {
    await p.request({ method: "wallet_switchEthereumChain", params: [{ chainId }] });
  } catch (e) {
    if ((e as { code?: number })?.code !== 4902) throw e;
    await p.request({
      method: "wallet_addEthereumChain",
      params: [
        {
          chainId,
          chainName: cfg.chainName,
          nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
          rpcUrls: [cfg.rpcUrl],
        },
      ],
    });
  }
}
