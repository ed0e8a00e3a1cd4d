import { describe, expect, it } from "vitest";
import {
  ContractFunctionExecutionError,
  ContractFunctionRevertedError,
  UserRejectedRequestError,
  encodeErrorResult,
  zeroAddress,
} from "viem";
import { recordRegistryAbi, accessTokenAbi } from "../../src/abi/generated";
import { describeError, describeRevert, UserFacingError } from "../../src/errors";

const doctor = "0x1111111111111111111111111111111111111111";

function reverted(abi: typeof recordRegistryAbi | typeof accessTokenAbi, errorName: string, args: unknown[], functionName: string) {
  const data = encodeErrorResult({ abi, errorName, args } as never);
  const cause = new ContractFunctionRevertedError({ abi, data, functionName });
  return new ContractFunctionExecutionError(cause, { abi, functionName, args: [], contractAddress: zeroAddress });
}

describe("reverts", () => {
  it("are decoded from the generated ABI to a sentence", () => {
    const e = reverted(recordRegistryAbi, "AccessDenied", [doctor, 1n], "accessRecord");
    expect(describeError(e).message).toBe(
      "Access denied: 0x1111…1111 has no valid grant for record 1 (it was revoked, has expired, or never covered this record).",
    );
    const g = reverted(accessTokenAbi, "DoctorNotVerified", [doctor], "grant");
    expect(describeError(g).message).toMatch(/not verified/);
  });

  it("have words for every custom error of the three contracts", async () => {
    const { patientRegistryAbi } = await import("../../src/abi/generated");
    const names = [...patientRegistryAbi, ...accessTokenAbi, ...recordRegistryAbi].filter((x) => x.type === "error").map((x) => x.name);
    for (const n of names) expect(describeRevert(n, [doctor, 1n, 2n]), n).not.toMatch(/^The contract refused/);
  });
});

describe("wallet errors", () => {
  it("name a rejected signature", () => {
    const e = new UserRejectedRequestError(new Error("User denied transaction signature"));
    expect(describeError(e)).toMatchObject({ rejected: true, message: expect.stringMatching(/rejected the request/) });
    expect(describeError({ code: 4001, message: "denied" }).rejected).toBe(true);
  });
  it("offer a switch for an unknown chain and pass our own messages through", () => {
    expect(describeError({ code: 4902 }).wrongNetwork).toBe(true);
    expect(describeError(new UserFacingError("Choose a file first.")).message).toBe("Choose a file first.");
    expect(describeError("plain").message).toBe("plain");
  });
});
