import { createHmac } from "node:crypto";

import { circuitBreaker, CircuitState, ConsecutiveBreaker, handleAll, type CircuitBreakerPolicy } from "cockatiel";

import { listen } from "../db-listen.ts";
import { env } from "../env.ts";
import { describe } from "../errors.ts";
import { mailOperators } from "../notifications/operator-mail.ts";
import { clearAlert, raiseAlert } from "../operator-alert-store.ts";
import {
  deliverNextEvent,
  EVENTS_CHANNEL,
  nameSubscribers,
  noteSubscriberRun,
  type DeliveryResult,
} from "./service-event-store.ts";

// Connection events pushed to the services that subscribe, signed as Standard Webhooks say:
// `webhook-id`, `webhook-timestamp`, and `webhook-signature: v1,<base64 HMAC-SHA256 of
// id.timestamp.body>`, once per secret while one is being rotated. At least once, the same id on
// every retry, in order per workspace; retried with backoff for a day, then given up.

export type Subscriber = { name: string; url: string; secrets: readonly string[] };

/** One `v1,<base64>` signature; the secret is Standard Webhooks' `whsec_<base64 key>`. */
export function signatureOf(secret: string, id: string, timestamp: number, body: string): string {
  const key = Buffer.from(secret.replace(/^whsec_/, ""), "base64");
  return `v1,${createHmac("sha256", key).update(`${id}.${timestamp}.${body}`).digest("base64")}`;
}

/** How long a failed delivery waits before the next try: 10 s, doubling, at most an hour. */
export const retryDelayMs = (attempts: number) => Math.min(10_000 * 2 ** attempts, 3_600_000);
/** Past this, an event nobody took is given up (dead), and the operators' metrics show it. */
export const GIVE_UP_AFTER_MS = 24 * 3_600_000;
/** A subscriber failing this long is mailed about to the operators, once per run of failures. */
export const TELL_OPERATORS_AFTER_MS = 3_600_000;
const TIMEOUT_MS = 5_000;

/**
 * One circuit breaker per subscriber URL: after 5 failures in a row, no delivery is tried for a
 * minute (the events wait, due), so a subscriber that is down costs one try a minute, not one
 * per event.
 */
const breakers = new Map<string, CircuitBreakerPolicy>();
const breakerOf = (url: string) => {
  let breaker = breakers.get(url);
  if (!breaker) {
    breaker = circuitBreaker(handleAll, { halfOpenAfter: 60_000, breaker: new ConsecutiveBreaker(5) });
    breakers.set(url, breaker);
  }
  return breaker;
};

class Refused extends Error {}

/** Delivers every event due now to one subscriber, one at a time in order; how many deliveries it tried. */
export async function deliverDueEvents(
  subscriber: Subscriber,
  options: {
    now?: () => Date;
    fetch?: typeof fetch;
    timeoutMs?: number;
    /** Where the operators' mail goes; SMTP_URL and OPERATOR_EMAILS by default. */
    operators?: { smtpUrl?: string; to?: readonly string[] };
  } = {},
): Promise<number> {
  const now = options.now ?? (() => new Date());
  const send = options.fetch ?? fetch;
  let tried = 0;
  const at = now();
  const breaker = breakerOf(subscriber.url);
  while (breaker.state !== CircuitState.Open) {
    let result: DeliveryResult | null = null;
    const took = await deliverNextEvent(subscriber.name, at, async (event, attempts) => {
      tried++;
      const body = JSON.stringify(event.payload);
      // When it is sent, by the wall clock: receivers refuse a timestamp more than minutes off theirs.
      const timestamp = Math.floor(Date.now() / 1000);
      const retry = (status: number | null, error: string) => {
        const next = new Date(at.getTime() + retryDelayMs(attempts));
        const giveUp = next.getTime() > event.owedAt.getTime() + GIVE_UP_AFTER_MS;
        return { retryAt: giveUp ? null : next, status, error };
      };
      try {
        const answer = await breaker.execute(async () => {
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
          if (answer.status < 200 || answer.status >= 300) throw new Refused(String(answer.status));
          return answer;
        });
        result = { delivered: true as const, status: answer.status };
      } catch (error) {
        result =
          error instanceof Refused
            ? retry(Number(error.message), `HTTP ${error.message}`)
            : retry(null, describe(error));
      }
      return result;
    });
    if (!took || !result) break;
    await noteRun(subscriber, result, at, options.operators);
  }
  return tried;
}

const alertOf = (subscriber: Subscriber) => `event_subscriber_failing:${subscriber.name}`;

/** A run of failures an hour long raises an operator alert and mails the operators, once; a delivery ends it. */
async function noteRun(
  subscriber: Subscriber,
  result: DeliveryResult,
  at: Date,
  operators?: { smtpUrl?: string; to?: readonly string[] },
): Promise<void> {
  const ok = "delivered" in result;
  const run = await noteSubscriberRun(subscriber.name, ok, at, TELL_OPERATORS_AFTER_MS);
  if (ok) return clearAlert(alertOf(subscriber), at);
  if (!run.tell) return;
  const since = run.failingSince?.toISOString() ?? at.toISOString();
  const why = result.status ? `HTTP ${result.status}` : result.error;
  const message = `Connection events have not reached subscriber "${subscriber.name}" (${new URL(subscriber.url).host}) since ${since}: the last try got ${why}. They wait and are retried for a day; see npm run events -- list.`;
  await raiseAlert(alertOf(subscriber), message, at);
  await mailOperators(
    {
      subject: `Connection events are not reaching "${subscriber.name}"`,
      text: `${message}\n\nOnce it answers again, everything owed is delivered in order; nothing is lost until an event is a day old. Given-up events can be sent again with npm run events -- redeliver --given-up.\n`,
    },
    operators,
  );
}

/**
 * The worker's delivery: to every subscriber at once, so one that is slow or down holds no other
 * back; at once when an event commits (LISTEN on its own connection), and every `everyMs` for
 * retries and anything a lost connection missed. Several workers on one database share the
 * work through the deliveries' row locks.
 */
export async function startEventDelivery(
  subscribers: readonly Subscriber[],
  log: (event: string, fields: Record<string, unknown>) => void,
  options: { everyMs?: number; databaseUrl?: string } = {},
): Promise<{ stop: () => Promise<void> }> {
  await nameSubscribers(subscribers.map((s) => s.name));
  let running: Promise<unknown> = Promise.resolve();
  let busy = false;
  let again = false;
  const pass = (): void => {
    if (subscribers.length === 0) return;
    if (busy) {
      again = true;
      return;
    }
    busy = true;
    again = false;
    running = Promise.all(
      subscribers.map((subscriber) =>
        deliverDueEvents(subscriber)
          .then((tried) => tried > 0 && log("service_events_delivered", { subscriber: subscriber.name, tried }))
          .catch((error: unknown) =>
            log("service_events_error", { subscriber: subscriber.name, error: describe(error) }),
          ),
      ),
    ).finally(() => {
      busy = false;
      if (again) pass();
    });
  };
  const timer = setInterval(pass, options.everyMs ?? 2_000);
  const listener =
    subscribers.length > 0 ? await listen(options.databaseUrl ?? env().DATABASE_URL, EVENTS_CHANNEL, pass, log) : null;
  return {
    stop: async () => {
      clearInterval(timer);
      await listener?.stop();
      await running;
    },
  };
}
