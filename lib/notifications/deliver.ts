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
  if (!transport) transports.set(smtpUrl, (transport = nodemailer.createTransport(smtpUrl)));
  return transport;
}

/** Waits between attempts: 1, 2, 4 … minutes, at most an hour. */
export function retryDelayMs(attempts: number): number {
  return Math.min(60, 2 ** attempts) * 60_000;
}

export async function deliverDue(now: Date, options: { smtpUrl: string; limit?: number }): Promise<number> {
  const e = env();
  const smtpUrl = options.smtpUrl;
  let handled = 0;
  while (handled < (options.limit ?? 100)) {
    const took = await deliverNext(now, (notification, recipients, tenantName) =>
      send(notification, recipients, tenantName, { smtpUrl, from: e.MAIL_FROM, appUrl: e.APP_URL, now }),
    );
    if (!took) break;
    handled++;
  }
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
