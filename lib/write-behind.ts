import { log } from "./log.ts";

// Counts that change on every request (metrics, Pipedrive budget estimates) are added up in
// memory and written as one statement a second later, instead of one upsert per event on the
// same few hot rows: under load those upserts queued on each other's row locks and doubled the
// queries of a connect (npm run bench, scenario 1). A stop loses at most the last second.

export type WriteBehind<T> = {
  /** Adds `delta` under `key`; never throws or waits. */
  add(key: string, delta: T): void;
  /** Writes whatever is owed now; resolves once it is written (or failed and was logged). */
  flush(): Promise<void>;
};

const everyOne = new Set<WriteBehind<never>>();

/** Writes everything owed, before the database goes away (closeDb). */
export async function flushAllWrites(): Promise<void> {
  await Promise.all([...everyOne].map((w) => w.flush()));
}

export function writeBehind<T>(options: {
  name: string;
  merge: (a: T, b: T) => T;
  /** Writes one batch, its keys sorted so that processes writing at once lock rows in one order. */
  write: (batch: [string, T][]) => Promise<unknown>;
  delayMs?: number;
}): WriteBehind<T> {
  const owed = new Map<string, T>();
  let timer: NodeJS.Timeout | null = null;
  let writing: Promise<void> = Promise.resolve();
  const flush = () => {
    if (timer) clearTimeout(timer);
    timer = null;
    if (owed.size === 0) return writing;
    const batch = [...owed].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    owed.clear();
    writing = writing
      .then(() => options.write(batch))
      .then(
        () => undefined,
        (error: unknown) => log().debug({ error: String(error), entries: batch.length }, `${options.name} not written`),
      );
    return writing;
  };
  const self: WriteBehind<T> = {
    add(key, delta) {
      const before = owed.get(key);
      owed.set(key, before === undefined ? delta : options.merge(before, delta));
      if (!timer) {
        timer = setTimeout(() => void flush(), options.delayMs ?? 1000);
        timer.unref();
      }
    },
    flush,
  };
  everyOne.add(self as WriteBehind<never>);
  return self;
}
