import "server-only";

import { env } from "../env.ts";
import { describe } from "../errors.ts";
import { log } from "../log.ts";
import { mailer } from "./deliver.ts";

// Mail to whoever runs the CRM (OPERATOR_EMAILS), about what only they can fix. Said once per
// incident by the caller; without SMTP_URL or OPERATOR_EMAILS the log line and the operator
// alert are all there is.

/** Whether the mail was handed to SMTP: false when nobody is configured or the send failed. */
export async function mailOperators(
  message: { subject: string; text: string },
  options: { smtpUrl?: string; to?: readonly string[] } = {},
): Promise<boolean> {
  const settings = env();
  const smtpUrl = options.smtpUrl ?? settings.SMTP_URL;
  const to = options.to ?? settings.OPERATOR_EMAILS;
  if (!smtpUrl || to.length === 0) return false;
  try {
    await mailer(smtpUrl).sendMail({ from: settings.MAIL_FROM, to: [...to], ...message });
    log().info({ recipients: to.length, subject: message.subject }, "operators mailed");
    return true;
  } catch (error) {
    log().warn({ error: describe(error) }, "mail to operators not sent");
    return false;
  }
}
