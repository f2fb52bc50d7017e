import { describe, isBusy } from "./errors.ts";
import { log } from "./log.ts";

/**
 * `work`, tried again while the database is too busy for it (errors.ts isBusy), for up to
 * `boundMs`: for work that must not be lost once begun, such as saving a grant whose code
 * Pipedrive has already exchanged. Anything else it throws is thrown at once.
 */
export async function retryWhileBusy<T>(work: () => Promise<T>, boundMs = 20_000): Promise<T> {
  const deadline = Date.now() + boundMs;
  for (let delayMs = 250; ; delayMs = Math.min(2 * delayMs, 2_000)) {
    try {
      return await work();
    } catch (error) {
      if (!isBusy(error) || Date.now() + delayMs > deadline) throw error;
      log().warn({ error: describe(error), retryInMs: delayMs }, "database busy: trying again");
      await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
  }
}
