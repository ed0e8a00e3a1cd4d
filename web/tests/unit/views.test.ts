// The views' own words: approvals toward the quorum, what re-encryption can do, and
// the notices panel of doctors and patients.
import { describe, expect, it } from "vitest";
import { REKEY_LIMIT } from "../../src/views/PatientView";
import { approvalText } from "../../src/views/VerifierView";
import { NOTICE_WORDS, contactStatusText, registeredText } from "../../src/views/NoticeContact";

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

describe("notices by mail", () => {
  it("speak to doctors about grants and to patients about break-glass and key releases", () => {
    expect(NOTICE_WORDS.doctor.what).toMatch(/grants you access or revokes it/);
    expect(NOTICE_WORDS.patient.what).toMatch(/opens break-glass emergency access to your records/);
    expect(NOTICE_WORDS.patient.what).toMatch(/emergency custodians releases a record key/);
    for (const a of ["doctor", "patient"] as const) {
      expect(NOTICE_WORDS[a].what).toMatch(/never holds a record/);
      expect(NOTICE_WORDS[a].what).toMatch(/never on chain/);
    }
  });

  it("name the address a code was mailed to, and what each status means", () => {
    const mailed = { email: "pat@home.test", expiresAt: 1893456000 };
    expect(contactStatusText("patient", "pending", mailed)).toBe(
      "A code was mailed to pat@home.test. It is valid until 2030-01-01T00:00:00Z. Nothing is mailed to it until you enter that code.",
    );
    expect(contactStatusText("doctor", "pending", null)).toBe(
      "A confirmation code was mailed to the address you registered. Nothing is mailed to it until you enter that code.",
    );
    expect(contactStatusText("patient", "none", null)).toMatch(/no mail when a doctor opens emergency access/);
    expect(contactStatusText("doctor", "confirmed", null)).toBe("Your address is confirmed: notices are mailed to you.");
    expect(contactStatusText("patient", "confirmed", null)).toBe("Your address is confirmed: alerts are mailed to you.");
    expect(contactStatusText("patient", "unknown", null)).toMatch(/cannot be asked/);
    expect(registeredText("doctor", "dr@clinic.test", { status: "pending", expiresAt: null })).toBe(
      "A code was mailed to dr@clinic.test. Enter the code below to confirm your address.",
    );
    expect(registeredText("patient", "p@home.test", { status: "confirmed", expiresAt: null })).toBe(
      "p@home.test is registered: alerts will be mailed to you.",
    );
  });
});
