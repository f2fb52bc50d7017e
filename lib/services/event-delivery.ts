import { createHmac } from "node:crypto";

import { describe } from "../errors.ts";
import { deliverNextEvent } from "./service-event-store.ts";

// Connection events pushed to the services that subscribe, signed as Standard Webhooks say:
// `webhook-id`, `webhook-timestamp`, and `webhook-signature: v1,<base64 HMAC-SHA256 of
// id.timestamp.body>`, once per secret while one is being rotated. At least once, the same id on
// every retry, in order per workspace; retried with backoff for a day, then given up.

export type Subscriber = { url: string; secrets: readonly string[] };

/** One `v1,<base64>` signature; the secret is Standard Webhooks' `whsec_<base64 key>`. */
export function signatureOf(secret: string, id: string, timestamp: number, body: string): string {
  const key = Buffer.from(secret.replace(/^whsec_/, ""), "base64");
  return `v1,${createHmac("sha256", key).update(`${id}.${timestamp}.${body}`).digest("base64")}`;
}

/** How long a failed delivery waits before the next try: 10 s, doubling, at most an hour. */
export const retryDelayMs = (attempts: number) => Math.min(10_000 * 2 ** attempts, 3_600_000);
/** Past this, an event nobody took is given up (dead), and the operators' metrics show it. */
export const GIVE_UP_AFTER_MS = 24 * 3_600_000;
const TIMEOUT_MS = 5_000;

/** Delivers every event due now, one at a time in order; how many deliveries it tried. */
export async function deliverDueEvents(
  subscriber: Subscriber,
  options: { now?: () => Date; fetch?: typeof fetch; timeoutMs?: number } = {},
): Promise<number> {
  const now = options.now ?? (() => new Date());
  const send = options.fetch ?? fetch;
  let tried = 0;
  const at = now();
  while (
    await deliverNextEvent(at, async (event, attempts) => {
      tried++;
      const body = JSON.stringify(event.payload);
      // When it is sent, by the wall clock: receivers refuse a timestamp more than minutes off theirs.
      const timestamp = Math.floor(Date.now() / 1000);
      const retry = (status: number | null, error: string) => {
        const next = new Date(at.getTime() + retryDelayMs(attempts));
        const giveUp = next.getTime() > event.createdAt.getTime() + GIVE_UP_AFTER_MS;
        return { retryAt: giveUp ? null : next, status, error };
      };
      try {
        const answer = await send(subscriber.url, {
          method: "POST",
          body,
          // A subscriber's redirect is not followed: the event goes where the operator said, or nowhere.
          redirect: "manual",
          signal: AbortSignal.timeout(options.timeoutMs ?? TIMEOUT_MS),
          headers: {
            "Content-Type": "application/json",
            "webhook-id": event.webhookId,
            "webhook-timestamp": String(timestamp),
            "webhook-signature": subscriber.secrets
              .map((s) => signatureOf(s, event.webhookId, timestamp, body))
              .join(" "),
          },
        });
        // Its answer's body is never read: nothing a subscriber says is kept but its status.
        await answer.body?.cancel().catch(() => {});
        if (answer.status >= 200 && answer.status < 300) return { delivered: true as const, status: answer.status };
        return retry(answer.status, `HTTP ${answer.status}`);
      } catch (error) {
        return retry(null, describe(error));
      }
    })
  ) {
    // Another one may be due: keep going until none is.
  }
  return tried;
}

/**
 * The worker's delivery loop: every `everyMs`, whatever is due, one pass at a time. Several
 * workers on one database share the work through the outbox's row locks.
 */
export function startEventDelivery(
  subscriber: Subscriber,
  log: (event: string, fields: Record<string, unknown>) => void,
  everyMs = 2_000,
): { stop: () => Promise<void> } {
  let running: Promise<unknown> = Promise.resolve();
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    running = deliverDueEvents(subscriber)
      .then((tried) => tried > 0 && log("service_events_delivered", { tried }))
      .catch((error: unknown) => log("service_events_error", { error: describe(error) }))
      .finally(() => (busy = false));
  }, everyMs);
  return {
    stop: async () => {
      clearInterval(timer);
      await running;
    },
  };
}
