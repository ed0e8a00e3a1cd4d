import { describe, expect, it } from "vitest";
import { createWalletClient, custom, hashTypedData, recoverTypedDataAddress } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { CONTACT_TYPES, contactDomain, registerContact, validEmail } from "../../src/contact";

// A throwaway key: the devnode's well-known first dev account is not needed here.
const account = privateKeyToAccount(`0x${"11".repeat(32)}`);
// The app passes an address, so viem asks the wallet (eth_signTypedData_v4): this
// one signs with the local key, as MetaMask would.
const wallet = createWalletClient({
  transport: custom({
    request: async ({ method, params }: { method: string; params?: unknown }) => {
      if (method !== "eth_signTypedData_v4") throw new Error(`unexpected ${method}`);
      const typed = JSON.parse((params as string[])[1]);
      const { EIP712Domain: _, ...types } = typed.types;
      return account.signTypedData({ domain: typed.domain, types, primaryType: typed.primaryType, message: typed.message });
    },
  }),
});
const silent = createWalletClient({ transport: custom({ request: async () => null }) });
const registry = "0x5FbDB2315678afecb367f032d93F642f64180aa3";

describe("contact registration", () => {
  it("hashes a known request as the notifier's Rust code does (crates/contact holds the same vector)", () => {
    const hash = hashTypedData({
      domain: contactDomain(412346, "0x00000000000000000000000000000000000000bb"),
      types: CONTACT_TYPES,
      primaryType: "RegisterContact",
      message: { account: "0x00000000000000000000000000000000000000aa", email: "dr.rivers@example.org", nonce: 7n, expiry: 1893456000n },
    });
    expect(hash).toBe("0xb10fab138d770846bf3d86bc85313718e5dad123c6deb0e8be246e048dbf5912");
  });

  it("signs the notifier's EIP-712 request and posts it", async () => {
    const posted: Record<string, unknown>[] = [];
    const fetchFn = (async (url: string, init?: RequestInit) => {
      if (String(url).endsWith("/nonce")) return new Response(JSON.stringify({ account: account.address, nextNonce: 4 }));
      posted.push(JSON.parse(String(init?.body)));
      return new Response(JSON.stringify({ registered: true }));
    }) as typeof fetch;
    await registerContact("http://127.0.0.1:8090", wallet, account.address, 412346, registry, "dr@clinic.test", fetchFn);
    expect(posted).toHaveLength(1);
    const req = posted[0] as { account: `0x${string}`; email: string; nonce: number; expiry: number; signature: `0x${string}` };
    expect(req).toMatchObject({ account: account.address, email: "dr@clinic.test", nonce: 4 });
    const signer = await recoverTypedDataAddress({
      domain: contactDomain(412346, registry),
      types: CONTACT_TYPES,
      primaryType: "RegisterContact",
      message: { account: req.account, email: req.email, nonce: BigInt(req.nonce), expiry: BigInt(req.expiry) },
      signature: req.signature,
    });
    expect(signer).toBe(account.address);
  });

  it("refuses a wallet that answers no signature", async () => {
    const fetchFn = (async () => new Response(JSON.stringify({ nextNonce: 1 }))) as unknown as typeof fetch;
    await expect(registerContact("http://n", silent, account.address, 1, registry, "a@b.c", fetchFn)).rejects.toThrow(/no signature/);
  });

  it("refuses a malformed address and reports the notifier's refusal", async () => {
    expect(validEmail("a@b.c")).toBe(true);
    for (const bad of ["", "a@b", "a b@c.d", "<a@b.c>"]) expect(validEmail(bad)).toBe(false);
    await expect(registerContact("http://n", wallet, account.address, 1, registry, "nope")).rejects.toThrow(/not an email address/);
    const refusing = (async (url: string) =>
      String(url).endsWith("/nonce")
        ? new Response(JSON.stringify({ nextNonce: 1 }))
        : new Response(JSON.stringify({ error: "nonce already used" }), { status: 409 })) as typeof fetch;
    await expect(registerContact("http://n", wallet, account.address, 1, registry, "a@b.c", refusing)).rejects.toThrow(
      "The notifier refused: nonce already used",
    );
  });
});
