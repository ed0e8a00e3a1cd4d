// Who gets a record key from the patient's own app: the patient, its emergency
// custodians and its grantees; a break-glass opener only once the patient
// confirmed that doctor by name.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { bytesToHex, hexToBytes, keccak256, toBytes, type Address, type Hex } from "viem";
import type { AppConfig } from "../../src/config";
import type { Opening } from "../../src/emergency";
import { Ledger, type LedgerEvent } from "../../src/ledger";
import { grantCovers, keyRecipients, openersWithoutGrant, unrevokedGrants, type GrantTerms } from "../../src/readers";
import { ZERO32, categoryCode } from "../../src/scope";
import * as vault from "../../src/vault";

const P = "0x00000000000000000000000000000000000000aa" as Address;
const C1 = "0x00000000000000000000000000000000000000c1" as Address;
const C2 = "0x00000000000000000000000000000000000000c2" as Address;
const G = "0x00000000000000000000000000000000000000d1" as Address;
const O = "0x00000000000000000000000000000000000000d2" as Address;
// Any coder will do here: the codes are opaque to grantCovers.
const coder = (n: string) => keccak256(toBytes(`test/${n}`));
const LAB = categoryCode("lab", coder);

describe("keyRecipients", () => {
  it("is the patient, the custodians and the grantees, once each, in that order", () => {
    const got = keyRecipients(P, [C1, C2, P], [
      { address: G, byGrant: true, byEmergency: false },
      { address: G.toUpperCase().replace("0X", "0x") as Address, byGrant: true, byEmergency: false },
      { address: O, byGrant: false, byEmergency: false },
    ]);
    expect(got).toEqual([P, C1, C2, G]);
  });

  it("never names a break-glass opener unless the patient confirmed that doctor", () => {
    const doctors = [
      { address: G, byGrant: true, byEmergency: false },
      { address: O, byGrant: false, byEmergency: true },
    ];
    expect(keyRecipients(P, [C1], doctors)).toEqual([P, C1, G]);
    expect(keyRecipients(P, [C1], doctors, [G])).toEqual([P, C1, G]);
    expect(keyRecipients(P, [C1], doctors, [O.toUpperCase().replace("0X", "0x") as Address])).toEqual([P, C1, G, O]);
    expect(openersWithoutGrant(doctors)).toEqual([O]);
  });

  it("counts an opener who also holds a covering grant as a grantee", () => {
    const doctors = [{ address: O, byGrant: true, byEmergency: true }];
    expect(keyRecipients(P, [], doctors)).toEqual([P, O]);
    expect(openersWithoutGrant(doctors)).toEqual([]);
  });
});

describe("grants", () => {
  const g = (over: Partial<GrantTerms>): GrantTerms => ({
    tokenId: 1n, doctor: G, expiresAt: 100n, scopeKind: 0, category: ZERO32, recordIds: [], ...over,
  });
  it("cover records as AccessToken does", () => {
    expect(grantCovers(g({}), 5n, ZERO32, 99n)).toBe(true);
    expect(grantCovers(g({}), 5n, ZERO32, 100n)).toBe(false); // expired at its end
    expect(grantCovers(g({ scopeKind: 1, recordIds: [2n, 5n] }), 5n, ZERO32, 1n)).toBe(true);
    expect(grantCovers(g({ scopeKind: 1, recordIds: [2n] }), 5n, ZERO32, 1n)).toBe(false);
    expect(grantCovers(g({ scopeKind: 2, category: LAB }), 5n, LAB, 1n)).toBe(true);
    expect(grantCovers(g({ scopeKind: 2, category: LAB }), 5n, categoryCode("imaging", coder), 1n)).toBe(false);
    expect(grantCovers(g({ scopeKind: 2, category: ZERO32 }), 5n, ZERO32, 1n)).toBe(false);
  });
  it("leave out revoked ones and other patients' ones", () => {
    const ev = (name: string, args: Record<string, unknown>): LedgerEvent => ({ name, args, blockNumber: 1n, logIndex: 0, tx: "0x", address: P });
    const events = [
      ev("AccessGranted", { tokenId: 1n, patient: P, doctor: G, expiresAt: 9n, scopeKind: 0, category: ZERO32, recordIds: [] }),
      ev("AccessGranted", { tokenId: 2n, patient: P, doctor: O, expiresAt: 9n, scopeKind: 1, category: ZERO32, recordIds: [3n] }),
      ev("AccessGranted", { tokenId: 3n, patient: C1, doctor: G, expiresAt: 9n, scopeKind: 0, category: ZERO32, recordIds: [] }),
      ev("AccessRevoked", { tokenId: 1n, patient: P, doctor: G }),
    ];
    expect(unrevokedGrants(events, P)).toEqual([{ tokenId: 2n, doctor: O, expiresAt: 9n, scopeKind: 1, category: ZERO32, recordIds: [3n] }]);
  });
});

// Ledger.shareKeys against a scripted chain: the real vault wraps the keys.
describe("Ledger, against a scripted chain", () => {
  const cfg: AppConfig = {
    chainId: 412346,
    chainName: "test",
    rpcUrl: "http://127.0.0.1:1",
    patientRegistry: "0x0000000000000000000000000000000000000001",
    accessToken: "0x0000000000000000000000000000000000000002",
    recordRegistry: "0x0000000000000000000000000000000000000003",
    deployBlock: 0n,
    ipfsApi: "",
    notifier: null,
  };
  const secrets = new Map<string, Uint8Array>();
  beforeAll(() => {
    vault.loadVaultSync(readFileSync(fileURLToPath(new URL("../../src/vault/pkg/careledger_vault_bg.wasm", import.meta.url))));
    for (const a of [P, C1, G, O]) secrets.set(a, vault.generateSecret());
  });

  /** A patient with records 1 and 2 (keys for the patient only), custodian C1,
   * a grant to G on all records, and O holding an open break-glass window. */
  function scripted() {
    const ledger = new Ledger(cfg, { request: async () => { throw new Error("no chain here"); } }, P);
    const keys = new Map<string, Hex>(); // `${id}/${reader}` -> wrapped
    for (const id of [1n, 2n]) {
      const s = vault.sealRecord(new Uint8Array([1, 2, 3]), { chainId: cfg.chainId, registry: cfg.recordRegistry, patient: P, recordId: id }, [
        vault.publicKey(secrets.get(P)!),
      ]);
      keys.set(`${id}/${P}`, bytesToHex(s.wrappedKeys[0]));
    }
    const events: LedgerEvent[] = [
      { name: "AccessGranted", args: { tokenId: 1n, patient: P, doctor: G, expiresAt: 10_000n, scopeKind: 0, category: ZERO32, recordIds: [] }, blockNumber: 1n, logIndex: 0, tx: "0x01", address: cfg.accessToken },
      { name: "EmergencyAccess", args: { patient: P, doctor: O, expiresAt: 5_000n, reason: 2 }, blockNumber: 2n, logIndex: 0, tx: "0x02", address: cfg.accessToken },
    ];
    const sent: { fn: string; args: readonly unknown[] }[] = [];
    const reads: Record<string, (args: readonly unknown[]) => unknown> = {
      emergencyCustodians: () => [C1],
      hasEmergencyAccess: ([, d]) => d === O,
      checkAccess: ([, d]) => d === G || d === O, // the chain lets both read: by grant, by window
      recordsOf: () => [1n, 2n],
      versionCount: () => 1,
      recordCategory: () => ZERO32,
      encryptionKey: ([who]) => bytesToHex(vault.publicKey(secrets.get(who as string)!)),
    };
    Object.assign(ledger, {
      events: async () => events,
      chainTime: async () => 1_000n,
      read: async (_a: unknown, _abi: unknown, fn: string, args: readonly unknown[] = []) => {
        if (!reads[fn]) throw new Error(`unexpected read ${fn}`);
        return reads[fn](args);
      },
      wrappedKey: async (id: bigint, _v: number, reader: Address) => keys.get(`${id}/${reader}`) ?? null,
      send: async (_a: unknown, _abi: unknown, fn: string, args: readonly unknown[]) => {
        sent.push({ fn, args });
        if (fn === "wrapKeys") {
          const [id, , readers, wrapped] = args as [bigint, number, Address[], Hex[]];
          readers.forEach((r, i) => keys.set(`${id}/${r}`, wrapped[i]));
        }
        return { logs: [], transactionHash: "0x" };
      },
      eventsIn: (_r: unknown, name: string) => (name === "RecordAdded" ? [{ recordId: 3n, version: 1 }] : []),
    });
    reads.recordCount = () => 2n;
    Object.assign(ledger.ipfs, { putBlocks: async () => undefined });
    return { ledger, sent, keys };
  }

  it("wraps for the custodians and grantees and asks about the opener by name, refusing by default", async () => {
    const { ledger, sent, keys } = scripted();
    const asked: Opening[] = [];
    const r = await ledger.shareKeys(secrets.get(P)!, { confirmOpener: (o) => (asked.push(o), false) });
    expect(asked.map((o) => [o.doctor, o.reason, o.expiresAt])).toEqual([[O, 2, 5_000n]]); // once, not once per record
    expect(r).toEqual({ shared: [1n, 2n], confirmed: [], withheld: [O] });
    expect(sent.map((x) => [x.fn, x.args[0], x.args[2]])).toEqual([
      ["wrapKeys", 1n, [C1, G]],
      ["wrapKeys", 2n, [C1, G]],
    ]);
    expect(keys.has(`1/${O}`)).toBe(false);
    // Each wrapped key opens for its reader: a real rewrap, bound to the record.
    const ctx = { chainId: cfg.chainId, registry: cfg.recordRegistry, patient: P, recordId: 1n };
    expect(vault.rewrapKey(hexToBytes(keys.get(`1/${C1}`)!), secrets.get(C1)!, vault.publicKey(secrets.get(G)!), ctx).length).toBeGreaterThan(32);
    expect(() => vault.rewrapKey(hexToBytes(keys.get(`1/${C1}`)!), secrets.get(O)!, vault.publicKey(secrets.get(O)!), ctx)).toThrow();
  });

  it("never wraps for an opener without a confirmation callback", async () => {
    const { ledger, sent } = scripted();
    const r = await ledger.shareKeys(secrets.get(P)!);
    expect(r.withheld).toEqual([O]);
    expect(sent.flatMap((x) => x.args[2] as Address[])).not.toContain(O);
  });

  it("wraps for the opener once the patient confirmed that doctor", async () => {
    const { ledger, sent } = scripted();
    const r = await ledger.shareKeys(secrets.get(P)!, { confirmOpener: (o) => o.doctor === O });
    expect(r).toEqual({ shared: [1n, 2n], confirmed: [O], withheld: [] });
    expect(sent.map((x) => x.args[2])).toEqual([
      [C1, G, O],
      [C1, G, O],
    ]);
  });

  it("shares with only the readers asked for (a new grantee, new custodians)", async () => {
    const { ledger, sent } = scripted();
    let asked = 0;
    const r = await ledger.shareKeys(secrets.get(P)!, { only: [C1], confirmOpener: () => (asked++, true) });
    expect(asked).toBe(0);
    expect(r.shared).toEqual([1n, 2n]);
    expect(sent.map((x) => x.args[2])).toEqual([[C1], [C1]]);
  });

  it("wraps a new record for the patient, the custodians and the grantee, never the opener", async () => {
    const { ledger, sent } = scripted();
    const r = await ledger.addRecord(new Uint8Array([9, 9, 9]), LAB);
    expect(r.readers).toEqual([P, C1, G]);
    expect(r.custodians).toBe(1);
    expect(sent.map((x) => [x.fn, x.args[3]])).toEqual([["addRecord", [P, C1, G]]]);
  });
});
