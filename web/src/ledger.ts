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
import { ZERO32, scopeArgs, type Scope } from "./scope";
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
  status: "active" | "expired" | "revoked";
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

  verifyDoctor(doctor: Address) {
    return this.send(this.cfg.patientRegistry, patientRegistryAbi, "verifyDoctor", [doctor]);
  }

  suspendDoctor(doctor: Address) {
    return this.send(this.cfg.patientRegistry, patientRegistryAbi, "suspendDoctor", [doctor]);
  }

  /** Registered doctors and where each stands now. */
  async doctors(events?: LedgerEvent[]): Promise<{ address: Address; status: DoctorStatus; licenceHash: Hex }[]> {
    const all = events ?? (await this.events());
    const seen = new Map<string, { address: Address; licenceHash: Hex }>();
    for (const e of all) {
      if (e.name === "DoctorRegistered") {
        const address = e.args.doctor as Address;
        seen.set(address.toLowerCase(), { address, licenceHash: e.args.licenceHash as Hex });
      }
    }
    return Promise.all(
      [...seen.values()].map(async (d) => ({
        ...d,
        status:
          DOCTOR_STATUS[await this.read<number>(this.cfg.patientRegistry, patientRegistryAbi, "doctorStatus", [d.address])] ??
          "none",
      })),
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

  /** Doctors ever granted (or in emergency on) `patient`: the chain says which may read now. */
  candidateDoctors(events: LedgerEvent[], patient: Address): Address[] {
    const out: Address[] = [];
    for (const e of events) {
      if ((e.name === "AccessGranted" || e.name === "EmergencyAccess") && same(e.args.patient, patient)) {
        const d = e.args.doctor as Address;
        if (!out.some((x) => same(x, d))) out.push(d);
      }
    }
    return out;
  }

  private checkAccess(patient: Address, doctor: Address, id: bigint, category: Hex): Promise<boolean> {
    return this.read<boolean>(this.cfg.accessToken, accessTokenAbi, "checkAccess", [patient, doctor, id, category]);
  }

  /** The patient and every candidate doctor who may read `id` now, with their keys. */
  private async readers(patient: Address, id: bigint, category: Hex, candidates: Address[]) {
    const readers = [{ address: patient, key: await this.encryptionKeyOf(patient) }];
    for (const d of candidates) {
      if (!same(d, patient) && (await this.checkAccess(patient, d, id, category))) {
        readers.push({ address: d, key: await this.encryptionKeyOf(d) });
      }
    }
    return readers;
  }

  /** Encrypts `plaintext`, stores its blocks, puts the pointer on chain with a key
   * wrapped for the patient and each doctor who may read it now. */
  async addRecord(plaintext: Uint8Array, category: Hex, progress?: Progress) {
    const me = this.account;
    const candidates = this.candidateDoctors(await this.events(), me);
    let id = (await this.read<bigint>(this.cfg.recordRegistry, recordRegistryAbi, "recordCount")) + 1n;
    for (let first = true; ; first = false) {
      progress?.("encrypt", 0, plaintext.length);
      const readers = await this.readers(me, id, category, candidates);
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
        return { id, version: Number(added.version), cid: sealed.cid, readers: addresses, tx: receipt.transactionHash };
      }
      // Another patient took the predicted id: the ciphertext is bound to the wrong
      // record, so seal again for the real id as version 2 (as the CLI does).
      id = added.recordId as bigint;
    }
  }

  /** A new version of the patient's record under a new key, wrapped for the readers
   * allowed now: after a revocation, the revoked doctor's old key opens nothing new. */
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
    const readers = await this.readers(me, id, r[4], this.candidateDoctors(await this.events(), me));
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

  /** Shares the latest version of each record with every doctor in `doctors` who
   * may read it now and has no key for it yet. Returns the records that gained keys. */
  async shareWith(doctors: Address[], secret: Uint8Array, progress?: Progress): Promise<bigint[]> {
    const me = this.account;
    const rr = this.cfg.recordRegistry;
    const ids = await this.read<bigint[]>(rr, recordRegistryAbi, "recordsOf", [me]);
    const shared: bigint[] = [];
    // One registry read per doctor, not one per doctor and record.
    const keys = new Map<Address, Promise<Uint8Array>>();
    const keyOf = (d: Address) => {
      if (!keys.has(d)) keys.set(d, this.encryptionKeyOf(d));
      return keys.get(d)!;
    };
    for (const [i, id] of ids.entries()) {
      progress?.("share keys", i, ids.length);
      const version = await this.read<number>(rr, recordRegistryAbi, "versionCount", [id]);
      const category = await this.read<Hex>(rr, recordRegistryAbi, "recordCategory", [id]);
      const missing: Address[] = [];
      for (const d of doctors) {
        if ((await this.checkAccess(me, d, id, category)) && (await this.wrappedKey(id, version, d)) === null) missing.push(d);
      }
      if (missing.length === 0) continue;
      const own = await this.wrappedKey(id, version, me);
      if (own === null) throw new UserFacingError(`Record ${id} has no key for you: it cannot be shared.`);
      const ctx = this.ctx(me, id);
      const wrapped: Hex[] = [];
      for (const d of missing) wrapped.push(bytesToHex(vault.rewrapKey(hexToBytes(own), secret, await keyOf(d), ctx)));
      await this.send(rr, recordRegistryAbi, "wrapKeys", [id, version, missing, wrapped]);
      shared.push(id);
    }
    progress?.("share keys", ids.length, ids.length);
    return shared;
  }

  /** Doctors who may read a record now but hold no key for it (after an emergency opening). */
  async syncKeys(secret: Uint8Array, progress?: Progress): Promise<bigint[]> {
    return this.shareWith(this.candidateDoctors(await this.events(), this.account), secret, progress);
  }

  // --- grants ---------------------------------------------------------------------

  async grant(doctor: Address, scope: Scope, expiresAt: bigint, secret: Uint8Array, progress?: Progress) {
    const s = scopeArgs(scope);
    const receipt = await this.send(this.cfg.accessToken, accessTokenAbi, "grant", [doctor, expiresAt, s.scopeKind, s.category, s.recordIds]);
    const granted = this.eventsIn(receipt, "AccessGranted")[0];
    const shared = await this.shareWith([doctor], secret, progress);
    return { tokenId: granted?.tokenId as bigint, shared, tx: receipt.transactionHash };
  }

  revoke(tokenId: bigint) {
    return this.send(this.cfg.accessToken, accessTokenAbi, "revoke", [tokenId]);
  }

  /** Grants given by (or, with `received`, to) `who`, as the chain tells them now. */
  async grants(who: Address, received: boolean, events?: LedgerEvent[]): Promise<GrantRow[]> {
    const all = events ?? (await this.events());
    const now = await this.chainTime();
    const revoked = new Set(all.filter((e) => e.name === "AccessRevoked").map((e) => String(e.args.tokenId)));
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
        if (revoked.has(String(tokenId))) return { ...base, issuedAt: 0n, status: "revoked" };
        const info = await this.read<readonly [Address, Address, bigint, bigint, number, Hex]>(
          this.cfg.accessToken,
          accessTokenAbi,
          "grantInfo",
          [tokenId],
        );
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
      throw new UserFacingError(`Record ${id} has no key for you yet: the patient shares it on their next visit to CareLedger.`);
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

  async openEmergency(patient: Address) {
    const receipt = await this.send(this.cfg.accessToken, accessTokenAbi, "openEmergencyAccess", [patient]);
    return { expiresAt: this.eventsIn(receipt, "EmergencyAccess")[0]?.expiresAt as bigint, tx: receipt.transactionHash };
  }

  closeEmergency(doctor: Address) {
    return this.send(this.cfg.accessToken, accessTokenAbi, "closeEmergencyAccess", [doctor]);
  }
}

export function same(a: unknown, b: unknown): boolean {
  return typeof a === "string" && typeof b === "string" && a.toLowerCase() === b.toLowerCase();
}

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
