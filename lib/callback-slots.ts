import { bulkhead, isBulkheadRejectedError, type BulkheadPolicy } from "cockatiel";

import { AppError, BUSY_RETRY_MS } from "./errors.ts";

// Once a callback's code is exchanged it must be saved; so a process takes on no more callbacks
// at once than it has connections kept for their saves (db.ts, the grant pool). The rest wait in
// line for a while, and past that are told the CRM is busy before anything of theirs is used.

/** Callbacks one process exchanges codes for at once, and the connections kept for their saves. */
export const CALLBACKS_AT_ONCE = 4;

export type CallbackSlots = { slots: BulkheadPolicy; waitMs: number };

export function callbackSlots(atOnce: number, waitMs: number): CallbackSlots {
  return { slots: bulkhead(atOnce, Number.MAX_SAFE_INTEGER), waitMs };
}

/** `work` in a free slot, if one frees within waitMs; otherwise a busy AppError, and `work` never runs. */
export async function inCallbackSlot<T>({ slots, waitMs }: CallbackSlots, work: () => Promise<T>): Promise<T> {
  let phase: "waiting" | "running" | "gave_up" = "waiting";
  let timer: NodeJS.Timeout | undefined;
  const gaveUp = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      if (phase !== "waiting") return;
      phase = "gave_up";
      reject(busy(`no callback slot free within ${waitMs} ms`));
    }, waitMs);
  });
  // Single-threaded: a flow either starts before the wait ends, or never starts.
  const run = slots.execute(async () => {
    if (phase === "gave_up") return undefined as T;
    phase = "running";
    return await work();
  });
  try {
    return await Promise.race([run, gaveUp]);
  } catch (error) {
    if (isBulkheadRejectedError(error)) throw busy("callback line full");
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

const busy = (why: string) => new AppError("busy", why, { retryAt: new Date(Date.now() + BUSY_RETRY_MS) });
