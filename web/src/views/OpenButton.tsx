// Open a record: the read is logged on chain, the ciphertext fetched and checked
// against the hash on chain, decrypted in the page, and offered as a download.
import { useState } from "react";
import { UserFacingError } from "../errors";
import { useSession } from "../session";

interface Opened {
  url: string;
  bytes: number;
  version: number;
}

export function OpenButton({ id }: { id: bigint }) {
  const s = useSession();
  const [opened, setOpened] = useState<Opened | null>(null);
  const open = () =>
    s.run(`Opening record ${id}`, async () => {
      if (!s.secret) throw new UserFacingError("Unlock your key first (passphrase above).");
      const r = await s.ledger.openRecord(id, s.secret, s.progress);
      if (opened) URL.revokeObjectURL(opened.url);
      setOpened({ url: URL.createObjectURL(new Blob([r.plaintext as BlobPart])), bytes: r.plaintext.length, version: r.version });
      return `Record ${id} v${r.version}: ${r.plaintext.length} bytes decrypted in this page (the read is logged in ${r.tx}).`;
    });
  return (
    <span className="open">
      <button onClick={open} data-testid={`open-${id}`}>Open record {String(id)}</button>
      {opened && (
        <a href={opened.url} download={`record-${id}-v${opened.version}.bin`} data-testid={`download-${id}`}>
          Download ({opened.bytes} bytes)
        </a>
      )}
    </span>
  );
}

