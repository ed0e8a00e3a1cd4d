import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig, parseConfig } from "../../src/config";

const good = {
  chainId: 412346,
  chainName: "CareLedger devnode",
  rpcUrl: "http://127.0.0.1:8547",
  patientRegistry: "0x5fbdb2315678afecb367f032d93f642f64180aa3",
  accessToken: "0xe7f1725e7734ce288f8367e1bb143e90bb3f0512",
  recordRegistry: "0x9fe46736679d2d9a65f0992f2272de9f3c7fa6e0",
  deployBlock: 1,
  ipfsApi: "",
  notifier: null,
};

describe("careledger.json", () => {
  it("is read with checksummed addresses and a bigint block", () => {
    const c = parseConfig(good);
    expect(c.patientRegistry).toBe("0x5FbDB2315678afecb367f032d93F642f64180aa3");
    expect(c.deployBlock).toBe(1n);
    expect(c.notifier).toBeNull();
    expect(parseConfig({ ...good, notifier: "http://127.0.0.1:8090/" }).notifier).toBe("http://127.0.0.1:8090");
  });
  it("names the field that is wrong", () => {
    expect(() => parseConfig([])).toThrow(ConfigError);
    expect(() => parseConfig({ ...good, accessToken: "0x12" })).toThrow(/"accessToken" must be an address/);
    expect(() => parseConfig({ ...good, chainId: "1" })).toThrow(/"chainId"/);
    expect(() => parseConfig({ ...good, chainId: 0 })).toThrow(/must not be 0/);
  });
  it("explains a server that has no deployment", async () => {
    const fetch503 = async () => new Response(JSON.stringify({ Message: "no deployment: run careledger deploy first" }), { status: 503 });
    await expect(loadConfig(fetch503 as typeof fetch)).rejects.toThrow(/run careledger deploy first/);
    const down = async () => {
      throw new TypeError("failed to fetch");
    };
    await expect(loadConfig(down as typeof fetch)).rejects.toThrow(/cannot load careledger.json/);
  });
});
