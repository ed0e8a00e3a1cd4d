// The views' own words: approvals toward the quorum, and what re-encryption can do.
import { describe, expect, it } from "vitest";
import { REKEY_LIMIT } from "../../src/views/PatientView";
import { approvalText } from "../../src/views/VerifierView";

describe("views", () => {
  it("count a doctor's approvals toward the verification threshold", () => {
    expect(approvalText(1, 2)).toBe("approved by 1 of 2");
    expect(approvalText(0, 1)).toBe("approved by 0 of 1");
    expect(approvalText(3, 0)).toBe("approved by 3");
  });
  it("say plainly that re-encryption protects later versions only", () => {
    expect(REKEY_LIMIT).toBe(
      "Re-encryption protects later versions only: a reader who already had a key keeps it for the versions it could open.",
    );
  });
});
