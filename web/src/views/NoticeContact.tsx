// Mail from the notifier, for doctors and patients alike: register an address (a
// request signed in the wallet), then confirm it with the code mailed to it (double
// opt-in); the notifier's word on where the address stands is shown throughout.
import { useEffect, useState } from "react";
import { ConfirmError, confirmContact, contactStatus, registerContact, type ContactStatus, type Registration } from "../contact";
import { UserFacingError } from "../errors";
import { formatTime } from "../scope";
import { useSession } from "../session";

export type Audience = "doctor" | "patient";

/** An address a code was just mailed to (the notifier's status does not name it). */
export interface Mailed {
  email: string;
  expiresAt: number | null;
}

export const NOTICE_WORDS: Record<Audience, { title: string; what: string; none: string; confirmed: string; placeholder: string }> = {
  doctor: {
    title: "Notices by mail",
    what:
      "The notifier mails you when a patient grants you access or revokes it, and when a patient adds a record you may read. " +
      "A mail never holds a record, its category or its CID. Your address stays with the notifier, never on chain.",
    none: "No address registered: you get no mail about grants.",
    confirmed: "Your address is confirmed: notices are mailed to you.",
    placeholder: "you@clinic.example",
  },
  patient: {
    title: "Alerts by mail",
    what:
      "The notifier mails you when a doctor opens break-glass emergency access to your records (with the reason the doctor gave), " +
      "and when one of your emergency custodians releases a record key to a doctor, so that you can close the access at once. " +
      "A mail never holds a record, its category or its CID. Your address stays with the notifier, never on chain.",
    none: "No address registered: you get no mail when a doctor opens emergency access to your records.",
    confirmed: "Your address is confirmed: alerts are mailed to you.",
    placeholder: "you@example.org",
  },
};

/** Where the address stands, in words; "unknown" when the notifier could not be asked. */
export function contactStatusText(audience: Audience, status: ContactStatus | "unknown", mailed: Mailed | null): string {
  switch (status) {
    case "none":
      return NOTICE_WORDS[audience].none;
    case "pending":
      return `${mailedText(mailed)} Nothing is mailed to it until you enter that code.`;
    case "confirmed":
      return NOTICE_WORDS[audience].confirmed;
    default:
      return "The notifier cannot be asked right now.";
  }
}

/** "A code was mailed to …", with the address when this page registered it. */
export function mailedText(mailed: Mailed | null): string {
  if (!mailed) return "A confirmation code was mailed to the address you registered.";
  const until = mailed.expiresAt ? ` It is valid until ${formatTime(mailed.expiresAt)}.` : "";
  return `A code was mailed to ${mailed.email}.${until}`;
}

/** The status line after a registration, for both audiences. */
export function registeredText(audience: Audience, email: string, r: Registration): string {
  if (r.status === "confirmed") return `${email} is registered: ${audience === "doctor" ? "notices" : "alerts"} will be mailed to you.`;
  return `${mailedText({ email, expiresAt: r.expiresAt })} Enter the code below to confirm your address.`;
}

export function NoticeContact({ audience, mailed, setMailed }: { audience: Audience; mailed: Mailed | null; setMailed: (m: Mailed | null) => void }) {
  const s = useSession();
  const words = NOTICE_WORDS[audience];
  const notifier = s.cfg.notifier;
  const [status, setStatus] = useState<ContactStatus | "unknown" | null>(null);
  const [email, setEmail] = useState("");
  const [code, setCode] = useState("");
  // Re-read after every action (s.tick): the notifier's word, not this page's, is the status.
  useEffect(() => {
    if (!notifier) return;
    let gone = false;
    contactStatus(notifier, s.account).then(
      (st) => !gone && setStatus(st),
      () => !gone && setStatus("unknown"),
    );
    return () => {
      gone = true;
    };
  }, [notifier, s.account, s.tick]);
  if (!notifier) {
    return (
      <section data-testid="notice-contact">
        <h2>{words.title}</h2>
        <p className="hint" data-testid="contact-off">No notifier is configured for this deployment: no mail is sent.</p>
      </section>
    );
  }
  // Just registered here while the notifier could not be asked: the code field still shows.
  const shown = status === "unknown" && mailed ? "pending" : status;
  const register = () =>
    s.run("Registering your address with the notifier", async () => {
      const address = email.trim();
      if (!address) throw new UserFacingError("Enter your email address.");
      const r = await registerContact(notifier, s.ledger.wallet, s.account, s.cfg.chainId, s.cfg.patientRegistry, address);
      setMailed(r.status === "pending" ? { email: address, expiresAt: r.expiresAt } : null);
      setStatus(r.status);
      setEmail("");
      setCode("");
      return registeredText(audience, address, r);
    });
  const confirm = () =>
    s.run("Confirming your address", async () => {
      try {
        await confirmContact(notifier, s.account, code);
      } catch (e) {
        // 404 and 429: the registration is gone, the code field with it.
        if (e instanceof ConfirmError && e.registerAgain) {
          setMailed(null);
          setStatus("none");
        }
        throw e;
      }
      setStatus("confirmed");
      setMailed(null);
      setCode("");
      return words.confirmed;
    });
  return (
    <section data-testid="notice-contact">
      <h2>{words.title}</h2>
      <p className="hint">{words.what}</p>
      <p>
        Status:{" "}
        <span className={`badge ${shown === "confirmed" ? "verified" : shown ?? ""}`} data-testid="contact-status">
          {shown ?? "…"}
        </span>{" "}
        {shown && <span data-testid="contact-status-text">{contactStatusText(audience, shown, mailed)}</span>}
      </p>
      {shown === "pending" && (
        <div data-testid="contact-pending">
          <label>
            Code{" "}
            <input
              value={code}
              placeholder="8 letters and digits"
              autoComplete="one-time-code"
              onChange={(e) => setCode(e.target.value)}
              data-testid="contact-code"
            />
          </label>
          <button onClick={confirm} data-testid="contact-confirm">Confirm</button>
        </div>
      )}
      <label>
        {shown === "confirmed" ? "New address" : "Email"}{" "}
        <input value={email} placeholder={words.placeholder} onChange={(e) => setEmail(e.target.value)} data-testid="contact-email" />
      </label>
      <button onClick={register} data-testid="contact-register">
        {shown === "pending" ? "Send a new code" : shown === "confirmed" ? "Change address" : "Register"}
      </button>
    </section>
  );
}
