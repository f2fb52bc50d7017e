import "server-only";

import pg from "pg";

import { describe } from "./errors.ts";

// A connection of its own that LISTENs on a channel, so a worker acts when a change commits
// (NOTIFY is sent at commit, and not at all on rollback) instead of at its next poll. Callers
// keep their poll: a lost connection makes them late by its interval, never loses work.

export async function listen(
  databaseUrl: string,
  channel: string,
  onNotify: () => void,
  log: (event: string, fields: Record<string, unknown>) => void,
): Promise<{ stop: () => Promise<void> }> {
  const client = new pg.Client({ connectionString: databaseUrl, application_name: `crm-listen-${channel}` });
  client.on("notification", onNotify);
  client.on("error", (error) => log("listener_lost", { channel, error: describe(error) }));
  try {
    await client.connect();
    // The channel is one of ours, a constant: LISTEN takes no parameters.
    await client.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
  } catch (error) {
    log("listener_lost", { channel, error: describe(error) });
    await client.end().catch(() => {});
    return { stop: async () => {} };
  }
  return { stop: () => client.end().catch(() => {}) };
}
