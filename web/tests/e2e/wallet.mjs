// A stand-in for MetaMask: an EIP-1193 provider injected into the page whose
// requests are answered here, in node, with a devnode dev key. It signs
// transactions and typed data, can reject the next request as a user would, and
// can sit on another chain until the page asks it to switch.
import { createWalletClient, defineChain, http, numberToHex } from "viem";
import { privateKeyToAccount } from "viem/accounts";

/** Runs in the page before the app: window.ethereum forwards to node. */
export const PROVIDER_SCRIPT = `(() => {
  const listeners = {};
  window.ethereum = {
    isCareLedgerTestWallet: true,
    async request({ method, params }) {
      const r = await window.__careledgerWallet(method, params ?? []);
      if (r.error) {
        const e = new Error(r.error.message);
        e.code = r.error.code;
        if (r.error.data !== undefined) e.data = r.error.data;
        throw e;
      }
      return r.result;
    },
    on(ev, fn) { (listeners[ev] ??= []).push(fn); },
    removeListener(ev, fn) { listeners[ev] = (listeners[ev] ?? []).filter((f) => f !== fn); },
  };
  window.__careledgerEmit = (ev, arg) => (listeners[ev] ?? []).forEach((f) => f(arg));
})();`;

class RpcError extends Error {
  constructor(code, message, data) {
    super(message);
    this.code = code;
    this.data = data;
  }
}

export class DevWallet {
  constructor({ rpcUrl, chainId, privateKey, startChainId }) {
    this.rpcUrl = rpcUrl;
    this.realChainId = chainId;
    this.chainId = startChainId ?? chainId;
    this.account = privateKeyToAccount(privateKey);
    this.client = createWalletClient({
      account: this.account,
      chain: defineChain({
        id: chainId,
        name: "devnode",
        nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
        rpcUrls: { default: { http: [rpcUrl] } },
      }),
      transport: http(rpcUrl),
    });
    this.rejectNext = false;
    this.page = null;
    this.requests = [];
  }

  get address() {
    return this.account.address;
  }

  async attach(context) {
    await context.exposeBinding("__careledgerWallet", async (source, method, params) => {
      this.page = source.page;
      try {
        return { result: await this.handle(method, params) };
      } catch (e) {
        return { error: { code: e.code ?? -32603, message: e.shortMessage ?? e.message, data: e.data } };
      }
    });
    await context.addInitScript(PROVIDER_SCRIPT);
  }

  async emit(event, arg) {
    if (this.page) await this.page.evaluate(([ev, a]) => window.__careledgerEmit(ev, a), [event, arg]);
  }

  async forward(method, params) {
    const res = await fetch(this.rpcUrl, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
    });
    const body = await res.json();
    if (body.error) throw new RpcError(body.error.code, body.error.message, body.error.data);
    return body.result;
  }

  async handle(method, params) {
    this.requests.push(method);
    const signs = method === "eth_sendTransaction" || method.startsWith("eth_signTypedData") || method === "personal_sign";
    if (signs && this.rejectNext) {
      this.rejectNext = false;
      throw new RpcError(4001, "User rejected the request.");
    }
    switch (method) {
      case "eth_requestAccounts":
      case "eth_accounts":
        return [this.address];
      case "eth_chainId":
        return numberToHex(this.chainId);
      case "net_version":
        return String(this.chainId);
      case "wallet_switchEthereumChain": {
        const wanted = Number(BigInt(params[0].chainId));
        if (wanted !== this.realChainId) throw new RpcError(4902, `Unrecognized chain ID ${params[0].chainId}.`);
        this.chainId = wanted;
        await this.emit("chainChanged", numberToHex(wanted));
        return null;
      }
      case "eth_sendTransaction": {
        if (this.chainId !== this.realChainId) throw new RpcError(4901, "The wallet is on another chain.");
        const tx = params[0];
        return this.client.sendTransaction({
          to: tx.to,
          data: tx.data,
          value: tx.value ? BigInt(tx.value) : 0n,
          gas: tx.gas ? BigInt(tx.gas) : undefined,
        });
      }
      case "eth_signTypedData_v4": {
        const typed = typeof params[1] === "string" ? JSON.parse(params[1]) : params[1];
        const { EIP712Domain: _, ...types } = typed.types;
        return this.account.signTypedData({ domain: typed.domain, types, primaryType: typed.primaryType, message: typed.message });
      }
      default:
        if (this.chainId !== this.realChainId) throw new RpcError(4901, "The wallet is on another chain.");
        return this.forward(method, params);
    }
  }
}
