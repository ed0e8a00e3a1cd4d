// CareLedger's contracts through the user's wallet: the flows of the CLI's
// `record`, `grant`, `read` and `audit` verbs, with the vault in WebAssembly.
import {
  BaseError,
  ContractFunctionRevertedError,
  bytesToHex,
  createPublicClient,
  createWalletClient,
  custom,
  defineChain,
  hexToBytes,
  parseEventLogs,
  type Abi,
  type Address,
  type Chain,
  type Hex,
  type Log,
  type PublicClient,
  type TransactionReceipt,
  type WalletClient,
} from "viem";
import { accessTokenAbi, patientRegistryAbi, recordRegistryAbi } from "./abi/generated";
import type { AppConfig } from "./config";
import { UserFacingError } from "./errors";
import { EventLog } from "./eventlog";
import { Kubo } from "./ipfs";
import { openings, type Opening } from "./emergency";
import { grantCovers, keyRecipients, openersWithoutGrant, prunedGrants, unrevokedGrants, type DoctorFacts, type GrantTerms } from "./readers";
import { ZERO32, same, scopeArgs, type CategoryCoder, type Scope } from "./scope";
import * as vault from "./vault";
import type { Eip1193 } from "./wallet";

export const DOCTOR_STATUS = ["none", "pending", "verified", "suspended"] as const;
export type DoctorStatus = (typeof DOCTOR_STATUS)[number];

const ALL_ABIS = [...patientRegistryAbi, ...accessTokenAbi, ...recordRegistryAbi] as Abi;

export function chainOf(cfg: AppConfig): Chain {
  return defineChain({
    id: cfg.chainId,
    name: cfg.chainName,
    nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: [cfg.rpcUrl] } },
  });
}

/** One decoded event of the deployment, in chain order. */
export interface LedgerEvent {
  name: string;
  args: Record<string, unknown>;
  blockNumber: bigint;
  logIndex: number;
  tx: Hex;
  address: Address;
}

export interface Role {
  isPatient: boolean;
  doctorStatus: DoctorStatus;
  isVerifier: boolean;
  isOwner: boolean;
  encryptionKey: Hex;
}

export interface RecordRow {
  id: bigint;
  version: number;
  cid: string;
  contentHash: Hex;
  category: Hex;
  addedAt: bigint;
}

export interface GrantRow {
  tokenId: bigint;
  patient: Address;
  doctor: Address;
  issuedAt: bigint;
  expiresAt: bigint;
  scopeKind: number;
  category: Hex;
  recordIds: bigint[];
  /** "burnt": the token is gone without a revocation this history shows
   * (grantInfo reverts with ERC721NonexistentToken); ended all the same. */
  status: GrantStatus;
}

export type GrantStatus = "active" | "expired" | "revoked" | "burnt";

/** A grant's status as the tables show it. */
export function grantStatusText(status: GrantStatus): string {
  return status === "burnt" ? "ended (token burnt)" : status;
}

export interface DoctorRow {
  address: Address;
  status: DoctorStatus;
  licenceHash: Hex;
  /** Verifiers whose approval counts now (cleared by a suspension). */
  approvals: Address[];
}

export type Progress = (stage: string, done: number, total: number) => void;

export class Ledger {
  readonly client: PublicClient;
  readonly wallet: WalletClient;
  readonly ipfs: Kubo;
  private log: EventLog | null = null;

  constructor(
    readonly cfg: AppConfig,
    provider: Eip1193,
    readonly account: Address,
  ) {
    const chain = chainOf(cfg);
    const transport = custom(provider);
    this.client = createPublicClient({ chain, transport, pollingInterval: 400 });
    this.wallet = createWalletClient({ chain, account, transport });
    this.ipfs = new Kubo(cfg.ipfsApi);
  }

  // --- plumbing -------------------------------------------------------------------

  private read<T>(address: Address, abi: Abi, functionName: string, args: readonly unknown[] = [], asMe = false): Promise<T> {
    return this.client.readContract({
      address,
      abi,
      functionName,
      args,
      ...(asMe ? { account: this.account } : {}),
    } as never) as Promise<T>;
  }

  /** Simulates first, so a revert is decoded to its custom error before the wallet asks. */
  private async send(address: Address, abi: Abi, functionName: string, args: readonly unknown[]): Promise<TransactionReceipt> {
    const { request } = await this.client.simulateContract({ address, abi, functionName, args, account: this.account } as never);
    const hash = await this.wallet.writeContract(request as never);
    const receipt = await this.client.waitForTransactionReceipt({ hash, pollingInterval: 250 });
    if (receipt.status !== "success") throw new UserFacingError(`The transaction ${hash} was reverted.`);
    return receipt;
  }

  private eventsIn(receipt: TransactionReceipt, eventName: string): Record<string, unknown>[] {
    return parseEventLogs({ abi: ALL_ABIS, logs: receipt.logs, eventName } as never).map(
      (l) => (l as unknown as { args: Record<string, unknown> }).args,
    );
  }

  async chainTime(): Promise<bigint> {
    return (await this.client.getBlock()).timestamp;
  }

  /** Every event of the three contracts since the deployment, oldest first
   * (read incrementally: see EventLog). */
  events(): Promise<LedgerEvent[]> {
    this.log ??= new EventLog(
      async (fromBlock, toBlock) =>
        decodeLogs(
          await this.client.getLogs({
            address: [this.cfg.patientRegistry, this.cfg.accessToken, this.cfg.recordRegistry],
            fromBlock,
            toBlock,
          }),
        ),
      () => this.client.getBlockNumber({ cacheTime: 0 }),
      this.cfg.deployBlock,
    );
    return this.log.all();
  }

  // --- roles ----------------------------------------------------------------------

  async role(who: Address = this.account): Promise<Role> {
    const pr = this.cfg.patientRegistry;
    const [isPatient, status, isVerifier, owner, encryptionKey] = await Promise.all([
      this.read<boolean>(pr, patientRegistryAbi, "isPatient", [who]),
      this.read<number>(pr, patientRegistryAbi, "doctorStatus", [who]),
      this.read<boolean>(pr, patientRegistryAbi, "isVerifier", [who]),
      this.read<Address>(pr, patientRegistryAbi, "owner"),
      this.read<Hex>(pr, patientRegistryAbi, "encryptionKey", [who]),
    ]);
    return {
      isPatient,
      doctorStatus: DOCTOR_STATUS[status] ?? "none",
      isVerifier,
      isOwner: owner.toLowerCase() === who.toLowerCase(),
      encryptionKey,
    };
  }

  registerPatient(publicKey: Uint8Array) {
    return this.send(this.cfg.patientRegistry, patientRegistryAbi, "registerPatient", [bytesToHex(publicKey)]);
  }

  registerDoctor(publicKey: Uint8Array, licenceHash: Hex) {
    return this.send(this.cfg.patientRegistry, patientRegistryAbi, "registerDoctor", [bytesToHex(publicKey), licenceHash]);
  }

  /** Records the caller's approval of `doctor`; the doctor is verified once
   * `verificationThreshold` distinct verifiers approved. */
  async verifyDoctor(doctor: Address) {
    const receipt = await this.send(this.cfg.patientRegistry, patientRegistryAbi, "verifyDoctor", [doctor]);
    const approved = this.eventsIn(receipt, "DoctorApproved")[0];
    return {
      approvals: Number(approved?.approvals ?? 0),
      threshold: Number(approved?.threshold ?? 0),
      verified: this.eventsIn(receipt, "DoctorVerified").length > 0,
      tx: receipt.transactionHash,
    };
  }

  verificationThreshold(): Promise<number> {
    return this.read<number>(this.cfg.patientRegistry, patientRegistryAbi, "verificationThreshold");
  }

  suspendDoctor(doctor: Address) {
    return this.send(this.cfg.patientRegistry, patientRegistryAbi, "suspendDoctor", [doctor]);
  }

  /** Registered doctors, where each stands now and which verifiers approved them
   * (toward the verification threshold). */
  async doctors(events?: LedgerEvent[]): Promise<DoctorRow[]> {
    const all = events ?? (await this.events());
    const seen = new Map<string, { address: Address; licenceHash: Hex }>();
    for (const e of all) {
      if (e.name === "DoctorRegistered") {
        const address = e.args.doctor as Address;
        seen.set(address.toLowerCase(), { address, licenceHash: e.args.licenceHash as Hex });
      }
    }
    const pr = this.cfg.patientRegistry;
    return Promise.all(
      [...seen.values()].map(async (d) => {
        const [status, approvals] = await Promise.all([
          this.read<number>(pr, patientRegistryAbi, "doctorStatus", [d.address]),
          this.read<readonly Address[]>(pr, patientRegistryAbi, "doctorApprovals", [d.address]),
        ]);
        return { ...d, status: DOCTOR_STATUS[status] ?? "none", approvals: [...approvals] };
      }),
    );
  }

  private async encryptionKeyOf(who: Address): Promise<Uint8Array> {
    const k = await this.read<Hex>(this.cfg.patientRegistry, patientRegistryAbi, "encryptionKey", [who]);
    if (k === ZERO32) throw new UserFacingError(`${who} has no encryption key registered.`);
    return hexToBytes(k);
  }

  // --- records --------------------------------------------------------------------

  private ctx(patient: Address, recordId: bigint): vault.RecordContext {
    return { chainId: this.cfg.chainId, registry: this.cfg.recordRegistry, patient, recordId };
  }

  // --- who gets a key --------------------------------------------------------------

  /** `patient`'s emergency custodians (none: break-glass is off for them). */
  custodians(patient: Address = this.account): Promise<readonly Address[]> {
    return this.read<readonly Address[]>(this.cfg.patientRegistry, patientRegistryAbi, "emergencyCustodians", [patient]);
  }

  private checkAccess(patient: Address, doctor: Address, id: bigint, category: Hex): Promise<boolean> {
    return this.read<boolean>(this.cfg.accessToken, accessTokenAbi, "checkAccess", [patient, doctor, id, category]);
  }

  hasEmergencyAccess(patient: Address, doctor: Address): Promise<boolean> {
    return this.read<boolean>(this.cfg.accessToken, accessTokenAbi, "hasEmergencyAccess", [patient, doctor]);
  }

  /** What every key the patient's app wraps depends on, read once per action:
   * custodians, unrevoked grants, and the doctors with an open break-glass window. */
  private async keyContext(patient: Address): Promise<KeyContext> {
    const events = await this.events();
    const [custodians, now] = await Promise.all([this.custodians(patient), this.chainTime()]);
    const grants = unrevokedGrants(events, patient).filter((g) => g.expiresAt > now);
    const opened = openings(events, patient);
    const open: Opening[] = [];
    for (const o of opened) if (await this.hasEmergencyAccess(patient, o.doctor)) open.push(o);
    const doctors: Address[] = [];
    for (const d of [...grants.map((g) => g.doctor), ...open.map((o) => o.doctor)]) {
      if (!same(d, patient) && !doctors.some((x) => same(x, d))) doctors.push(d);
    }
    return { custodians: [...custodians], grants, open, doctors, now };
  }

  /** Per candidate doctor: does a grant cover record `id` (and the chain agree),
   * and does the doctor hold an open break-glass window? An opener is never a
   * reader by the window alone: see keyRecipients. */
  private async doctorFacts(patient: Address, id: bigint, category: Hex, kc: KeyContext, only?: readonly Address[]): Promise<DoctorFacts[]> {
    const out: DoctorFacts[] = [];
    for (const d of kc.doctors) {
      if (only && !only.some((x) => same(x, d))) continue;
      const covered = kc.grants.some((g) => same(g.doctor, d) && grantCovers(g, id, category, kc.now));
      const byGrant = covered && (await this.checkAccess(patient, d, id, category));
      out.push({ address: d, byGrant, byEmergency: kc.open.some((o) => same(o.doctor, d)) });
    }
    return out;
  }

  /** One encryption-key read per account and action, not one per record. */
  private keyCache(): (who: Address) => Promise<Uint8Array> {
    const keys = new Map<string, Promise<Uint8Array>>();
    return (who) => {
      const k = who.toLowerCase();
      if (!keys.has(k)) keys.set(k, this.encryptionKeyOf(who));
      return keys.get(k)!;
    };
  }

  /** The readers of a new version of record `id`: the patient, its custodians and
   * the doctors a grant covers. Never a break-glass opener: their keys come from a
   * custodian, or from "Share keys" once the patient confirmed that doctor. */
  private async readers(patient: Address, id: bigint, category: Hex, kc: KeyContext, keyOf: (who: Address) => Promise<Uint8Array>) {
    const facts = await this.doctorFacts(patient, id, category, kc);
    const addresses = keyRecipients(patient, kc.custodians, facts);
    return Promise.all(addresses.map(async (address) => ({ address, key: await keyOf(address) })));
  }

  /** Encrypts `plaintext`, stores its blocks, puts the pointer on chain with a key
   * wrapped for the patient, its custodians and each doctor a grant lets read it. */
  async addRecord(plaintext: Uint8Array, category: Hex, progress?: Progress) {
    const me = this.account;
    const kc = await this.keyContext(me);
    const keyOf = this.keyCache();
    let id = (await this.read<bigint>(this.cfg.recordRegistry, recordRegistryAbi, "recordCount")) + 1n;
    for (let first = true; ; first = false) {
      progress?.("encrypt", 0, plaintext.length);
      const readers = await this.readers(me, id, category, kc, keyOf);
      const sealed = vault.sealRecord(
        plaintext,
        this.ctx(me, id),
        readers.map((r) => r.key),
      );
      progress?.("encrypt", plaintext.length, plaintext.length);
      await this.ipfs.putBlocks(sealed.blocks, (d, t) => progress?.("upload", d, t));
      const addresses = readers.map((r) => r.address);
      const wrapped = sealed.wrappedKeys.map((k) => bytesToHex(k));
      const receipt = first
        ? await this.send(this.cfg.recordRegistry, recordRegistryAbi, "addRecord", [
            bytesToHex(sealed.cidBytes),
            bytesToHex(sealed.sha256),
            category,
            addresses,
            wrapped,
          ])
        : await this.send(this.cfg.recordRegistry, recordRegistryAbi, "addVersion", [
            id,
            bytesToHex(sealed.cidBytes),
            bytesToHex(sealed.sha256),
            addresses,
            wrapped,
          ]);
      const added = this.eventsIn(receipt, "RecordAdded")[0];
      if (!added) throw new UserFacingError("The registry did not confirm the record.");
      if (added.recordId === id) {
        return {
          id,
          version: Number(added.version),
          cid: sealed.cid,
          readers: addresses,
          custodians: kc.custodians.length,
          tx: receipt.transactionHash,
        };
      }
      // Another patient took the predicted id: the ciphertext is bound to the wrong
      // record, so seal again for the real id as version 2 (as the CLI does).
      id = added.recordId as bigint;
    }
  }

  /** A new version of the patient's record under a new key, wrapped for the readers
   * allowed now. It protects that version and later ones only: a reader who already
   * had a key (a revoked doctor, a removed custodian) keeps it for the versions it
   * could open. */
  async rekey(id: bigint, secret: Uint8Array, progress?: Progress) {
    const me = this.account;
    const rr = this.cfg.recordRegistry;
    const owner = await this.read<Address>(rr, recordRegistryAbi, "recordOwner", [id]);
    if (!same(owner, me)) throw new UserFacingError(`Record ${id} belongs to ${owner}, not to you.`);
    const latest = await this.read<number>(rr, recordRegistryAbi, "versionCount", [id]);
    const r = await this.read<readonly [Address, number, Hex, Hex, Hex, bigint]>(rr, recordRegistryAbi, "getRecordVersion", [id, latest], true);
    const own = await this.wrappedKey(id, latest, me);
    if (own === null) throw new UserFacingError(`Record ${id} has no key for you: it cannot be re-encrypted here.`);
    const cid = vault.cidToString(hexToBytes(r[2]));
    const ciphertext = await this.ipfs.cat(cid, undefined, (d, t) => progress?.("download", d, t));
    const plaintext = vault.openRecord(ciphertext, hexToBytes(own), secret, this.ctx(me, id), hexToBytes(r[3]));
    const readers = await this.readers(me, id, r[4], await this.keyContext(me), this.keyCache());
    const sealed = vault.sealRecord(plaintext, this.ctx(me, id), readers.map((x) => x.key));
    plaintext.fill(0);
    await this.ipfs.putBlocks(sealed.blocks, (d, t) => progress?.("upload", d, t));
    const receipt = await this.send(rr, recordRegistryAbi, "addVersion", [
      id,
      bytesToHex(sealed.cidBytes),
      bytesToHex(sealed.sha256),
      readers.map((x) => x.address),
      sealed.wrappedKeys.map((k) => bytesToHex(k)),
    ]);
    const added = this.eventsIn(receipt, "RecordAdded")[0];
    return { version: Number(added?.version ?? latest + 1), cid: sealed.cid, readers: readers.map((x) => x.address) };
  }

  async records(patient: Address = this.account): Promise<RecordRow[]> {
    const ids = await this.read<bigint[]>(this.cfg.recordRegistry, recordRegistryAbi, "recordsOf", [patient]);
    return Promise.all(
      ids.map(async (id) => {
        const r = await this.read<readonly [Address, number, Hex, Hex, Hex, bigint]>(
          this.cfg.recordRegistry,
          recordRegistryAbi,
          "getRecord",
          [id],
          true,
        );
        return {
          id,
          version: Number(r[1]),
          cid: vault.cidToString(hexToBytes(r[2])),
          contentHash: r[3],
          category: r[4],
          addedAt: r[5],
        };
      }),
    );
  }

  private async wrappedKey(id: bigint, version: number, reader: Address): Promise<Hex | null> {
    try {
      return await this.read<Hex>(this.cfg.recordRegistry, recordRegistryAbi, "wrappedKey", [id, version, reader], true);
    } catch (e) {
      if (revertName(e) === "NoWrappedKey") return null;
      throw e;
    }
  }

  /** Wraps the latest version of each of the patient's records for every reader
   * who should hold its key and does not yet: the custodians and the doctors a
   * grant covers (only those in `only`, when given). A doctor with an open
   * break-glass window and no grant gets keys only if `confirmOpener` (a dialog
   * naming the doctor and the reason) says yes; without it, never. Asks once per
   * doctor, before any transaction. Returns the records that gained keys, the
   * openers confirmed and those left to the custodians. */
  async shareKeys(
    secret: Uint8Array,
    opts: { only?: readonly Address[]; confirmOpener?: (o: Opening) => boolean | Promise<boolean>; progress?: Progress } = {},
  ): Promise<{ shared: bigint[]; confirmed: Address[]; withheld: Address[] }> {
    const me = this.account;
    const rr = this.cfg.recordRegistry;
    const { only, confirmOpener, progress } = opts;
    const kc = await this.keyContext(me);
    const keyOf = this.keyCache();
    const ids = await this.read<bigint[]>(rr, recordRegistryAbi, "recordsOf", [me]);
    // First who lacks which key, counting every opener as if confirmed…
    const plan: { id: bigint; version: number; missing: Address[]; openers: Address[] }[] = [];
    for (const [i, id] of ids.entries()) {
      progress?.("check keys", i, ids.length);
      const version = await this.read<number>(rr, recordRegistryAbi, "versionCount", [id]);
      const category = await this.read<Hex>(rr, recordRegistryAbi, "recordCategory", [id]);
      const facts = await this.doctorFacts(me, id, category, kc, only);
      const openers = openersWithoutGrant(facts);
      const wanted = keyRecipients(me, kc.custodians, facts, openers).filter(
        (a) => !same(a, me) && (!only || only.some((x) => same(x, a))),
      );
      const missing: Address[] = [];
      for (const a of wanted) if ((await this.wrappedKey(id, version, a)) === null) missing.push(a);
      if (missing.length > 0) plan.push({ id, version, missing, openers });
    }
    // …then the patient's word on each opener who would gain a key…
    const asked = new Map<string, boolean>();
    for (const p of plan) {
      for (const d of p.missing) {
        if (!p.openers.some((o) => same(o, d)) || asked.has(d.toLowerCase())) continue;
        const o = kc.open.find((x) => same(x.doctor, d))!;
        asked.set(d.toLowerCase(), confirmOpener ? await confirmOpener(o) : false);
      }
    }
    const confirmed = kc.doctors.filter((d) => asked.get(d.toLowerCase()) === true);
    const withheld = kc.doctors.filter((d) => asked.get(d.toLowerCase()) === false);
    // …and only then the wraps.
    const shared: bigint[] = [];
    for (const [i, p] of plan.entries()) {
      progress?.("share keys", i, plan.length);
      const readers = p.missing.filter((a) => !p.openers.some((o) => same(o, a)) || asked.get(a.toLowerCase()) === true);
      if (readers.length === 0) continue;
      const own = await this.wrappedKey(p.id, p.version, me);
      if (own === null) throw new UserFacingError(`Record ${p.id} has no key for you: it cannot be shared.`);
      const ctx = this.ctx(me, p.id);
      const wrapped: Hex[] = [];
      for (const a of readers) wrapped.push(bytesToHex(vault.rewrapKey(hexToBytes(own), secret, await keyOf(a), ctx)));
      await this.send(rr, recordRegistryAbi, "wrapKeys", [p.id, p.version, readers, wrapped]);
      shared.push(p.id);
    }
    progress?.("share keys", plan.length, plan.length);
    return { shared, confirmed, withheld };
  }

  /** Names the patient's emergency custodians (an empty list turns break-glass
   * off), then wraps the latest key of each record for the new ones. */
  async setCustodians(custodians: readonly Address[], secret: Uint8Array | null, progress?: Progress) {
    const before = await this.custodians();
    const receipt = await this.send(this.cfg.patientRegistry, patientRegistryAbi, "setEmergencyCustodians", [custodians]);
    const added = custodians.filter((c) => !before.some((b) => same(b, c)));
    const removed = before.filter((b) => !custodians.some((c) => same(b, c)));
    let shared: bigint[] = [];
    if (added.length > 0 && secret) shared = (await this.shareKeys(secret, { only: added, progress })).shared;
    return { added, removed, shared, tx: receipt.transactionHash };
  }

  // --- grants ---------------------------------------------------------------------

  async grant(doctor: Address, scope: Scope, expiresAt: bigint, secret: Uint8Array, progress?: Progress) {
    // A category scope is the patient's own code of the name (never the name or its hash).
    const s = scopeArgs(scope, categoryCoder(secret));
    const receipt = await this.send(this.cfg.accessToken, accessTokenAbi, "grant", [doctor, expiresAt, s.scopeKind, s.category, s.recordIds]);
    const granted = this.eventsIn(receipt, "AccessGranted")[0];
    const { shared } = await this.shareKeys(secret, { only: [doctor], progress });
    return { tokenId: granted?.tokenId as bigint, shared, tx: receipt.transactionHash };
  }

  revoke(tokenId: bigint) {
    return this.send(this.cfg.accessToken, accessTokenAbi, "revoke", [tokenId]);
  }

  /** Grants given by (or, with `received`, to) `who`, as the chain tells them now.
   * A grant that ended and whose token is burnt is a row of its own: revoked by the
   * patient, expired (cleared away by a later grant to the same doctor), or burnt
   * without an event seen here; it never fails the whole list. */
  async grants(who: Address, received: boolean, events?: LedgerEvent[]): Promise<GrantRow[]> {
    const all = events ?? (await this.events());
    const now = await this.chainTime();
    const revoked = new Set(all.filter((e) => e.name === "AccessRevoked").map((e) => String(e.args.tokenId)));
    const pruned = prunedGrants(all);
    const granted = all.filter((e) => e.name === "AccessGranted" && same(received ? e.args.doctor : e.args.patient, who));
    return Promise.all(
      granted.map(async (e): Promise<GrantRow> => {
        const tokenId = e.args.tokenId as bigint;
        const base = {
          tokenId,
          patient: e.args.patient as Address,
          doctor: e.args.doctor as Address,
          expiresAt: e.args.expiresAt as bigint,
          scopeKind: Number(e.args.scopeKind),
          category: e.args.category as Hex,
          recordIds: [...((e.args.recordIds as bigint[]) ?? [])],
        };
        if (revoked.has(String(tokenId))) {
          const cleared = pruned.has(String(tokenId)) && base.expiresAt <= now;
          return { ...base, issuedAt: 0n, status: cleared ? "expired" : "revoked" };
        }
        let info: readonly [Address, Address, bigint, bigint, number, Hex];
        try {
          info = await this.read<readonly [Address, Address, bigint, bigint, number, Hex]>(
            this.cfg.accessToken,
            accessTokenAbi,
            "grantInfo",
            [tokenId],
          );
        } catch (err) {
          // Burnt after the events read here (or by a deployment that logged no event).
          if (revertName(err) === "ERC721NonexistentToken") return { ...base, issuedAt: 0n, status: "burnt" };
          throw err;
        }
        return { ...base, issuedAt: info[2], expiresAt: info[3], status: info[3] <= now ? "expired" : "active" };
      }),
    );
  }

  // --- reading --------------------------------------------------------------------

  /** `patient`'s records and whether this account may read each now. */
  async readableRecords(patient: Address): Promise<{ id: bigint; readable: boolean }[]> {
    const rr = this.cfg.recordRegistry;
    const ids = await this.read<bigint[]>(rr, recordRegistryAbi, "recordsOf", [patient]);
    return Promise.all(
      ids.map(async (id) => ({ id, readable: await this.read<boolean>(rr, recordRegistryAbi, "canRead", [this.account, id]) })),
    );
  }

  /** Logs the read on chain, fetches the ciphertext and decrypts it here. */
  async openRecord(id: bigint, secret: Uint8Array, progress?: Progress) {
    const rr = this.cfg.recordRegistry;
    const latest = await this.read<number>(rr, recordRegistryAbi, "versionCount", [id]);
    if (latest === 0) throw new UserFacingError(`There is no record ${id}.`);
    // Access first (a decoded AccessDenied), then the key: a read that cannot
    // succeed is not logged as one.
    await this.client.simulateContract({ address: rr, abi: recordRegistryAbi, functionName: "accessRecord", args: [id], account: this.account });
    const latestKey = await this.wrappedKey(id, latest, this.account);
    if (latestKey === null) {
      throw new UserFacingError(
        `Record ${id} has no key for you yet: after a break-glass opening it comes from one of the patient's emergency custodians; ` +
          "otherwise the patient shares it from their CareLedger.",
      );
    }
    const receipt = await this.send(rr, recordRegistryAbi, "accessRecord", [id]);
    const version = Number(this.eventsIn(receipt, "RecordAccessed")[0]?.version ?? latest);
    const r = await this.read<readonly [Address, number, Hex, Hex, Hex, bigint]>(rr, recordRegistryAbi, "getRecordVersion", [id, version], true);
    const patient = r[0];
    const cid = vault.cidToString(hexToBytes(r[2]));
    // The logged version is the latest unless the patient re-encrypted in between.
    const wrapped = version === latest ? latestKey : await this.wrappedKey(id, version, this.account);
    if (wrapped === null) throw new UserFacingError(`Record ${id} version ${version} has no key for you.`);
    const ciphertext = await this.ipfs.cat(cid, undefined, (d, t) => progress?.("download", d, t));
    const plaintext = vault.openRecord(ciphertext, hexToBytes(wrapped), secret, this.ctx(patient, id), hexToBytes(r[3]));
    return { plaintext, version, patient, cid, tx: receipt.transactionHash };
  }

  // --- emergency ------------------------------------------------------------------

  emergencyWindow(): Promise<bigint> {
    return this.read<bigint>(this.cfg.accessToken, accessTokenAbi, "emergencyWindow");
  }

  /** How many windows the caller opened in the last 24 hours, and the most allowed. */
  async emergencyQuota(doctor: Address = this.account): Promise<{ used: number; limit: number }> {
    const at = this.cfg.accessToken;
    const [used, limit] = await Promise.all([
      this.read<number>(at, accessTokenAbi, "emergencyOpensLastDay", [doctor]),
      this.read<number>(at, accessTokenAbi, "emergencyDailyLimit"),
    ]);
    return { used: Number(used), limit: Number(limit) };
  }

  /** Break-glass on `patient` with a reason code (see EMERGENCY_REASONS). */
  async openEmergency(patient: Address, reason: number) {
    const receipt = await this.send(this.cfg.accessToken, accessTokenAbi, "openEmergencyAccess", [patient, reason]);
    return { expiresAt: this.eventsIn(receipt, "EmergencyAccess")[0]?.expiresAt as bigint, tx: receipt.transactionHash };
  }

  /** Ends `doctor`'s window on the caller's records and bars that doctor for 30 days. */
  async closeEmergency(doctor: Address) {
    const receipt = await this.send(this.cfg.accessToken, accessTokenAbi, "closeEmergencyAccess", [doctor]);
    return { barredUntil: this.eventsIn(receipt, "EmergencyAccessClosed")[0]?.barredUntil as bigint, tx: receipt.transactionHash };
  }

  liftEmergencyBar(doctor: Address) {
    return this.send(this.cfg.accessToken, accessTokenAbi, "liftEmergencyBar", [doctor]);
  }

  /** Every doctor who opened break-glass on `patient`, with the chain's word now:
   * whether the window is open and until when the doctor is barred. */
  async emergencyState(patient: Address = this.account, events?: LedgerEvent[]): Promise<EmergencyRow[]> {
    const all = events ?? (await this.events());
    const now = await this.chainTime();
    const at = this.cfg.accessToken;
    return Promise.all(
      openings(all, patient).map(async (o) => {
        const [open, expiry, barredUntil] = await Promise.all([
          this.hasEmergencyAccess(patient, o.doctor),
          this.read<bigint>(at, accessTokenAbi, "emergencyExpiry", [patient, o.doctor]),
          this.read<bigint>(at, accessTokenAbi, "emergencyBarredUntil", [patient, o.doctor]),
        ]);
        // Closing sets the window's end to 0: the opening's own end stays in the row.
        return { ...o, windowOpen: expiry > now, open, barredUntil: barredUntil > now ? barredUntil : 0n };
      }),
    );
  }
}

/** A break-glass opening as the patient's panel shows it. */
export interface EmergencyRow extends Opening {
  /** The window has not ended (the patient may close it). */
  windowOpen: boolean;
  /** Window open now and the doctor verified now (hasEmergencyAccess). */
  open: boolean;
  /** End of the patient's bar on the doctor, 0 when none is in force. */
  barredUntil: bigint;
}

interface KeyContext {
  custodians: Address[];
  /** Unrevoked, unexpired grants of the patient. */
  grants: GrantTerms[];
  /** Doctors with an open break-glass window now. */
  open: Opening[];
  /** Grantees and openers, once each. */
  doctors: Address[];
  now: bigint;
}

export { same };

export function decodeLogs(logs: Log[]): LedgerEvent[] {
  return parseEventLogs({ abi: ALL_ABIS, logs })
    .map((l) => ({
      name: (l as unknown as { eventName: string }).eventName,
      args: (l as unknown as { args: Record<string, unknown> }).args,
      blockNumber: l.blockNumber ?? 0n,
      logIndex: l.logIndex ?? 0,
      tx: l.transactionHash ?? "0x",
      address: l.address,
    }))
    .sort((x, y) => (x.blockNumber === y.blockNumber ? x.logIndex - y.logIndex : x.blockNumber < y.blockNumber ? -1 : 1));
}

/** The custom error a call reverted with, if it is one of ours. */
export function revertName(e: unknown): string | undefined {
  if (!(e instanceof BaseError)) return undefined;
  const r = e.walk((x) => x instanceof ContractFunctionRevertedError) as ContractFunctionRevertedError | null;
  return r?.data?.errorName;
}

/** The patient's own category coder: the vault's HMAC under `secret`. */
export function categoryCoder(secret: Uint8Array): CategoryCoder {
  return (name) => bytesToHex(vault.categoryCode(secret, name));
}
