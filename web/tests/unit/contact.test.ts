import { describe, expect, it } from "vitest";
import { createWalletClient, custom, hashTypedData, recoverTypedDataAddress } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import {
  CODE_ALPHABET,
  CONTACT_TYPES,
  ConfirmError,
  confirmContact,
  contactDomain,
  contactStatus,
  nextNonce,
  normaliseCode,
  parseJsonExact,
  readBounded,
  registerContact,
  toU64,
  validEmail,
} from "../../src/contact";

// A throwaway key: the devnode's well-known first dev account is not needed here.
const account = privateKeyToAccount(`0x${"11".repeat(32)}`);
// What the wallet was asked to sign, as it received it (JSON text).
const asked: Record<string, unknown>[] = [];
// The app passes an address, so viem asks the wallet (eth_signTypedData_v4): this
// one signs with the local key, as MetaMask would.
const wallet = createWalletClient({
  transport: custom({
    request: async ({ method, params }: { method: string; params?: unknown }) => {
      if (method !== "eth_signTypedData_v4") throw new Error(`unexpected ${method}`);
      const typed = JSON.parse((params as string[])[1]);
      asked.push(typed.message);
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

  it("signs the notifier's EIP-712 request and posts it; the address is pending until confirmed", async () => {
    const posted: Record<string, unknown>[] = [];
    const fetchFn = (async (url: string, init?: RequestInit) => {
      if (String(url).endsWith("/nonce")) return new Response(JSON.stringify({ account: account.address, nextNonce: 4 }));
      posted.push(JSON.parse(String(init?.body)));
      return new Response(JSON.stringify({ account: account.address, status: "pending", expiresAt: 1893456000 }), { status: 202 });
    }) as typeof fetch;
    const r = await registerContact("http://127.0.0.1:8090", wallet, account.address, 412346, registry, "dr@clinic.test", fetchFn);
    expect(r).toEqual({ status: "pending", expiresAt: 1893456000 });
    expect(posted).toHaveLength(1);
    const req = posted[0] as { account: `0x${string}`; email: string; nonce: string; expiry: number; signature: `0x${string}` };
    // The nonce goes as a decimal string (exact at any size), the expiry as a number.
    expect(req).toMatchObject({ account: account.address, email: "dr@clinic.test", nonce: "4" });
    expect(typeof req.expiry).toBe("number");
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

const NOTIFIER = "http://127.0.0.1:8090";
const TWO_53 = 9007199254740992n;

/** A notifier answering the nonce endpoint with `nonceBody` (raw JSON text, as the Rust
 * side writes it) and registrations with 202 pending; the posted bodies as text. */
function notifierWith(nonceBody: string) {
  const posted: string[] = [];
  const fetchFn = (async (url: string, init?: RequestInit) => {
    if (String(url).endsWith("/nonce")) return new Response(nonceBody, { headers: { "content-type": "application/json" } });
    posted.push(String(init?.body));
    return new Response(JSON.stringify({ account: account.address, status: "pending", expiresAt: 1893456000 }), { status: 202 });
  }) as typeof fetch;
  return { fetchFn, posted };
}

async function signerOf(body: string) {
  const req = JSON.parse(body) as { account: `0x${string}`; email: string; nonce: string; expiry: number; signature: `0x${string}` };
  return recoverTypedDataAddress({
    domain: contactDomain(412346, registry),
    types: CONTACT_TYPES,
    primaryType: "RegisterContact",
    message: { account: req.account, email: req.email, nonce: BigInt(req.nonce), expiry: BigInt(req.expiry) },
    signature: req.signature,
  });
}

describe("nonces are u64, exact end to end", () => {
  it("keeps integers above 2^53 exact when parsing the notifier's JSON", () => {
    // JSON.parse alone rounds this to …992.
    expect(JSON.parse('{"n":9007199254740993}').n).toBe(9007199254740992);
    expect(parseJsonExact('{"n":9007199254740993}')).toEqual({ n: "9007199254740993" });
    expect(parseJsonExact('{"n":18446744073709551615,"m":7,"f":1.5e300,"s":"9007199254740993 \\" 9007199254740995","a":[-12345678901234567890]}')).toEqual({
      n: "18446744073709551615",
      m: 7,
      f: 1.5e300,
      s: '9007199254740993 " 9007199254740995',
      a: ["-12345678901234567890"],
    });
    expect(() => parseJsonExact("{nope")).toThrow();
    expect(toU64(4)).toBe(4n);
    expect(toU64("9007199254740993")).toBe(TWO_53 + 1n);
    expect(toU64("18446744073709551615")).toBe((1n << 64n) - 1n);
    for (const bad of ["18446744073709551616", "-1", "0x10", "1.5", 1.5, -1, 2 ** 60, null, undefined]) expect(toU64(bad)).toBeNull();
  });

  it("reads the nonce 2^53 + 1 exactly whether the notifier writes a number or a string", async () => {
    for (const body of ['{"account":"0xaa","nextNonce":9007199254740993}', '{"account":"0xaa","nextNonce":"9007199254740993"}']) {
      const { fetchFn } = notifierWith(body);
      expect(await nextNonce(NOTIFIER, account.address, { fetchFn })).toBe(9007199254740993n);
    }
    const { fetchFn } = notifierWith('{"nextNonce":18446744073709551616}');
    await expect(nextNonce(NOTIFIER, account.address, { fetchFn })).rejects.toThrow(/no valid nonce/);
  });

  it("signs nonce 9007199254740993 as uint64 and posts it as that decimal string", async () => {
    // Rounding would sign another message: the hashes of 2^53 and 2^53 + 1 differ.
    const hash = (nonce: bigint) =>
      hashTypedData({
        domain: contactDomain(412346, registry),
        types: CONTACT_TYPES,
        primaryType: "RegisterContact",
        message: { account: account.address, email: "p@home.test", nonce, expiry: 1893456000n },
      });
    expect(hash(TWO_53 + 1n)).not.toBe(hash(TWO_53));

    asked.length = 0;
    // As serde_json writes a u64: a bare number.
    const { fetchFn, posted } = notifierWith(`{"account":"${account.address}","nextNonce":9007199254740993}`);
    const r = await registerContact(NOTIFIER, wallet, account.address, 412346, registry, "p@home.test", fetchFn);
    expect(r.status).toBe("pending");
    expect(asked[0].nonce).toBe("9007199254740993"); // what the wallet signed
    expect(posted).toHaveLength(1);
    expect(posted[0]).toContain('"nonce":"9007199254740993"');
    expect(await signerOf(posted[0])).toBe(account.address);
  });

  it("signs the largest nonce, 2^64 - 1, exactly", async () => {
    const { fetchFn, posted } = notifierWith('{"nextNonce":"18446744073709551615"}');
    await registerContact(NOTIFIER, wallet, account.address, 412346, registry, "p@home.test", fetchFn);
    expect(posted[0]).toContain('"nonce":"18446744073709551615"');
    expect(await signerOf(posted[0])).toBe(account.address);
  });
});

describe("double opt-in", () => {
  const answering = (status: number, body: unknown) => {
    const calls: { url: string; body: string }[] = [];
    const fetchFn = (async (url: string, init?: RequestInit) => {
      calls.push({ url: String(url), body: String(init?.body ?? "") });
      return new Response(JSON.stringify(body), { status });
    }) as typeof fetch;
    return { fetchFn, calls };
  };

  it("takes a code as typed and refuses what cannot be one before asking", async () => {
    expect(CODE_ALPHABET).toBe("ABCDEFGHJKMNPQRSTUVWXYZ23456789");
    expect(normaliseCode(" abcd-efgh ")).toBe("ABCDEFGH");
    expect(normaliseCode("K7PQ 2M9X")).toBe("K7PQ2M9X");
    for (const bad of ["", "ABCDEFG", "ABCDEFGHJ", "ABCDEFGI", "ABCDEFG0", "ABCDEFG1", "ABCDEFGL", "ABCDEFGO", "ABCD_EFG"]) {
      expect(normaliseCode(bad)).toBeNull();
    }
    const { fetchFn, calls } = answering(200, {});
    await expect(confirmContact(NOTIFIER, account.address, "ABCD", { fetchFn })).rejects.toThrow(/8 letters and digits/);
    expect(calls).toHaveLength(0);
  });

  it("posts the account and the code to /v1/contacts/confirm", async () => {
    const { fetchFn, calls } = answering(200, { account: account.address, status: "confirmed" });
    await confirmContact(NOTIFIER, account.address, "k7pq-2m9x", { fetchFn });
    expect(calls).toEqual([{ url: `${NOTIFIER}/v1/contacts/confirm`, body: JSON.stringify({ account: account.address, code: "K7PQ2M9X" }) }]);
  });

  it("says what a wrong code, a lapsed registration and used-up attempts mean", async () => {
    const refusal = async (status: number) => {
      const { fetchFn } = answering(status, { error: status === 403 ? "wrong code: 2 attempts left" : "no" });
      return confirmContact(NOTIFIER, account.address, "K7PQ2M9X", { fetchFn }).then(
        () => expect.unreachable(),
        (e: unknown) => e as ConfirmError,
      );
    };
    const wrong = await refusal(403);
    expect(wrong).toBeInstanceOf(ConfirmError);
    expect(wrong.message).toBe("That code is not the one mailed to you (wrong code: 2 attempts left): check the mail and try again.");
    expect(wrong.registerAgain).toBe(false);
    const lapsed = await refusal(404);
    expect(lapsed.message).toMatch(/No registration is waiting for a code: it has expired or was never made\. Register your address again/);
    expect([lapsed.reason, lapsed.registerAgain]).toEqual(["not-pending", true]);
    const exhausted = await refusal(429);
    expect(exhausted.message).toMatch(/Too many wrong codes: the notifier dropped this registration\. Register your address again/);
    expect([exhausted.reason, exhausted.registerAgain]).toEqual(["too-many-attempts", true]);
    const { fetchFn } = answering(500, { error: "internal error" });
    await expect(confirmContact(NOTIFIER, account.address, "K7PQ2M9X", { fetchFn })).rejects.toThrow("The notifier refused: internal error");
  });

  it("reads the status: none, pending or confirmed", async () => {
    for (const status of ["none", "pending", "confirmed"] as const) {
      const { fetchFn, calls } = answering(200, { account: account.address, status });
      expect(await contactStatus(NOTIFIER, account.address, { fetchFn })).toBe(status);
      expect(calls[0].url).toBe(`${NOTIFIER}/v1/contacts/${account.address}/status`);
    }
    const { fetchFn } = answering(200, { status: "maybe" });
    await expect(contactStatus(NOTIFIER, account.address, { fetchFn })).rejects.toThrow(/no valid status/);
  });

  it("takes a 200 without a status (a notifier without double opt-in) as confirmed at once", async () => {
    const fetchFn = (async (url: string) =>
      new Response(JSON.stringify(String(url).endsWith("/nonce") ? { nextNonce: 0 } : { registered: account.address }))) as typeof fetch;
    expect(await registerContact(NOTIFIER, wallet, account.address, 1, registry, "a@b.c", fetchFn)).toEqual({ status: "confirmed", expiresAt: null });
  });
});

describe("every call to the notifier is bounded", () => {
  it("gives up at the deadline when the notifier never answers", async () => {
    let signal: AbortSignal | undefined;
    const fetchFn = ((_url: string, init?: RequestInit) => {
      signal = init?.signal ?? undefined;
      return new Promise<Response>(() => {}); // ignores the signal too
    }) as typeof fetch;
    const t = Date.now();
    await expect(contactStatus(NOTIFIER, account.address, { fetchFn, timeoutMs: 50 })).rejects.toThrow(
      `The notifier at ${NOTIFIER} did not answer within 50 ms.`,
    );
    expect(Date.now() - t).toBeLessThan(2000);
    expect(signal?.aborted).toBe(true);
  });

  it("gives up at the deadline when the answer's body never ends", async () => {
    const fetchFn = (async () =>
      new Response(
        new ReadableStream<Uint8Array>({
          start(c) {
            c.enqueue(new TextEncoder().encode('{"status":'));
          },
        }),
      )) as unknown as typeof fetch;
    await expect(confirmContact(NOTIFIER, account.address, "K7PQ2M9X", { fetchFn, timeoutMs: 50 })).rejects.toThrow(/did not answer within/);
  });

  it("refuses an answer larger than the bound, declared or streamed", async () => {
    const big = `{"status":"none","pad":"${"x".repeat(64 * 1024)}"}`;
    const fetchFn = (async () => new Response(big)) as unknown as typeof fetch;
    await expect(contactStatus(NOTIFIER, account.address, { fetchFn })).rejects.toThrow(/answer is too large/);
    const declared = new Response("{}", { headers: { "content-length": String(1 << 20) } });
    await expect(readBounded(declared, 1024)).rejects.toThrow(/too large \(1048576 bytes, at most 1024\)/);
    expect(await readBounded(new Response('{"a":1}'), 1024)).toBe('{"a":1}');
  });

  it("says so when the notifier cannot be reached", async () => {
    const fetchFn = (async () => {
      throw new TypeError("Failed to fetch");
    }) as unknown as typeof fetch;
    await expect(nextNonce(NOTIFIER, account.address, { fetchFn })).rejects.toThrow(`The notifier at ${NOTIFIER} cannot be reached.`);
  });
});
