// The notifier's directory: the doctor's email address, registered by a signed
// EIP-712 request (the same typed data as crates/contact, which the notifier checks).
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

export async function registerContact(
  notifier: string,
  wallet: WalletClient,
  account: Address,
  chainId: number,
  patientRegistry: Address,
  email: string,
  fetchFn: typeof fetch = (...a) => fetch(...a),
): Promise<void> {
  if (!validEmail(email)) throw new UserFacingError(`"${email}" is not an email address.`);
  const answer = async (res: Response) => {
    const body = await res.json().catch(() => ({}));
    if (!res.ok) throw new UserFacingError(`The notifier refused: ${body.error ?? body.message ?? `HTTP ${res.status}`}`);
    return body;
  };
  let nonceRes: Response;
  try {
    nonceRes = await fetchFn(`${notifier}/v1/contacts/${account}/nonce`);
  } catch {
    throw new UserFacingError(`The notifier at ${notifier} cannot be reached.`);
  }
  const nonce = BigInt((await answer(nonceRes)).nextNonce);
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
  await answer(
    await fetchFn(`${notifier}/v1/contacts`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ account, email, nonce: Number(nonce), expiry: Number(expiry), signature }),
    }),
  );
}
