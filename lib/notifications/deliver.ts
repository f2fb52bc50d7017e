import "server-only";

import nodemailer, { type Transporter } from "nodemailer";

import { env } from "../env.ts";
import { describe } from "../errors.ts";
import { log } from "../log.ts";
import { ROUTES } from "../routes.ts";
import { messageFor } from "./messages.ts";
import { deliverNext, type Delivery, type Notification, type Recipient } from "./notification-store.ts";

// The keeper's delivery of the outbox: every due notification, one at a time, over SMTP_URL.
// A failed send is retried with a growing wait. Without SMTP_URL nothing is delivered: the
// keeper does not run this, and notifications older than a day expire unsent.

const transports = new Map<string, Transporter>();
/** One pooled transport per SMTP_URL, shared by the admins' outbox and the operators' mail. */
export function mailer(smtpUrl: string): Transporter {
  let transport = transports.get(smtpUrl);
  // Pooled: one SMTP conversation carries many mails (a fresh connection per mail cost most of
  // each send when an outbox of thousands drained, npm run bench, scenario D).
  if (!transport)
    transports.set(
      smtpUrl,
      (transport = nodemailer.createTransport({ url: smtpUrl, pool: true, maxConnections: SENDERS })),
    );
  return transport;
}

/** Waits between attempts: 1, 2, 4 … minutes, at most an hour. */
export function retryDelayMs(attempts: number): number {
  return Math.min(60, 2 ** attempts) * 60_000;
}

/** Mails sent at once per keeper process, each under its own row lock (SKIP LOCKED shares the work). */
const SENDERS = 4;

export async function deliverDue(now: Date, options: { smtpUrl: string; limit?: number }): Promise<number> {
  const e = env();
  const smtpUrl = options.smtpUrl;
  const limit = options.limit ?? 100;
  let handled = 0;
  // Each sender stops when it finds nothing due for it; one that just sent looks again, so a
  // workspace's next mail (held back while its older one was in flight) still goes this pass.
  await Promise.all(
    Array.from({ length: SENDERS }, async () => {
      while (handled < limit) {
        handled++;
        const took = await deliverNext(now, (notification, recipients, tenantName) =>
          send(notification, recipients, tenantName, { smtpUrl, from: e.MAIL_FROM, appUrl: e.APP_URL, now }),
        );
        if (!took) {
          handled--;
          return;
        }
      }
    }),
  );
  return handled;
}

async function send(
  notification: Notification,
  recipients: Recipient[],
  tenantName: string,
  o: { smtpUrl: string; from: string; appUrl: string; now: Date },
): Promise<Delivery> {
  if (recipients.length === 0) return { outcome: "no_recipients" };
  const message = messageFor(
    notification.event,
    tenantName,
    `${o.appUrl}${ROUTES.settings}`,
    notification.createdAt,
    notification.detail,
    recipients.flatMap((r) => (r.timeZone ? [r.timeZone] : [])),
  );
  try {
    await mailer(o.smtpUrl).sendMail({
      from: o.from,
      to: recipients.map((r) => ({ name: r.name, address: r.email })),
      subject: message.subject,
      text: message.text,
    });
    log().info(
      { tenant: notification.tenantId, event: notification.event, recipients: recipients.length },
      "mail sent",
    );
    return { outcome: "sent" };
  } catch (error) {
    const reason = describe(error);
    log().warn({ tenant: notification.tenantId, event: notification.event, error: reason }, "mail not sent; retrying");
    return { failed: reason, retryAt: new Date(o.now.getTime() + retryDelayMs(notification.attempts)) };
  }
}
