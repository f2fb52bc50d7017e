import { existsSync, readFileSync } from "node:fs";
import path from "node:path";

import type { ReceivedMail } from "../../testing/support/smtp.ts";
import { STATE_DIR } from "./env.ts";

/** Every mail the e2e server's SMTP catcher has received so far (scripts/e2e-server.ts writes them). */
export function receivedMails(): ReceivedMail[] {
  const file = path.join(STATE_DIR, "mail.jsonl");
  if (!existsSync(file)) return [];
  return readFileSync(file, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line) as ReceivedMail);
}
