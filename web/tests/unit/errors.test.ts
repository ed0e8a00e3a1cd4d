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

describe("the break-glass, custodian and quorum errors", () => {
  it("are decoded and put in words", async () => {
    const { patientRegistryAbi } = await import("../../src/abi/generated");
    const patient = "0x2222222222222222222222222222222222222222";
    expect(describeError(reverted(accessTokenAbi, "NoEmergencyCustodian", [patient], "openEmergencyAccess")).message).toBe(
      "Patient 0x2222…2222 named no emergency custodian, so break-glass access is off for them: nobody could release their record keys to you.",
    );
    expect(describeError(reverted(accessTokenAbi, "EmergencyBarred", [patient, doctor, 1896048000n], "openEmergencyAccess")).message).toMatch(
      /barred it until 2030-01-31T00:00:00Z; only the patient can lift the bar/,
    );
    expect(describeError(reverted(accessTokenAbi, "EmergencyLimitReached", [doctor, 3], "openEmergencyAccess")).message).toMatch(
      /already opened 3 emergency accesses in the last 24 hours/,
    );
    expect(describeError(reverted(accessTokenAbi, "InvalidReason", [0], "openEmergencyAccess")).message).toMatch(/reason 0 is not valid/);
    expect(describeRevert("EnforcedPause")).toMatch(/paused/);
    expect(describeRevert("NotBarred", [patient, doctor])).toBe("Doctor 0x1111…1111 is not barred from emergency access to your records.");
    const approved = reverted(patientRegistryAbi as never, "AlreadyApproved", [doctor, patient], "verifyDoctor");
    expect(describeError(approved).message).toMatch(/^Verifier 0x2222…2222 already approved doctor 0x1111…1111/);
    expect(describeRevert("TooManyCustodians", [5n])).toBe("You named 5 emergency custodians: at most 4 are allowed.");
    expect(describeRevert("InvalidCustodian", [patient])).toMatch(/cannot be an emergency custodian/);
    expect(describeRevert("OwnerCannotVerify", [patient])).toMatch(/owner can never be a verifier/);
    expect(describeRevert("InvalidThreshold", [9])).toMatch(/between 1 and 8/);
    expect(describeRevert("InvalidEmergencyLimit", [17])).toMatch(/between 0 and 16/);
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
