import { parseArgs } from "node:util";

import { z } from "zod";

import { adoptCliEnv } from "./support/local-env.ts";

// `npm run enrich -- --tenant <uuid> --phone <phone>`: the lead-enrichment lookup from the
// shell. Matches go to stdout as JSON; any failure is one line on stderr and a non-zero exit.

/** sysexits' EX_TEMPFAIL: a stop that ends on its own (a renewal being checked, a pause, Pipedrive busy): repeat later. */
const EXIT_TRY_LATER = 75;

const usage = "usage: npm run enrich -- --tenant <tenant uuid> --phone <phone number>";
const args = z.object({ tenant: z.uuid(), phone: z.string().min(1) });

async function main(): Promise<number> {
  let parsed: z.infer<typeof args>;
  try {
    const { values } = parseArgs({ options: { tenant: { type: "string" }, phone: { type: "string" } } });
    parsed = args.parse(values);
  } catch {
    console.error(usage);
    return 2;
  }
  if (!adoptCliEnv("enrich")) return 2;
  // The same lookup as POST /api/services/pipedrive/persons/search, waiting out Pipedrive's limits.
  const { lookupForService } = await import("../lib/pipedrive/lookup/lookup.ts");
  const { pipedrive } = await import("../lib/pipedrive/context.ts");
  const { isTemporary, toAppError } = await import("../lib/errors.ts");
  const { closeDb } = await import("../lib/db.ts");
  try {
    const people = await lookupForService(pipedrive(), parsed.tenant, parsed.phone, { bound: false });
    process.stdout.write(`${JSON.stringify(people, null, 2)}\n`);
    return 0;
  } catch (error) {
    const appError = toAppError(error);
    // The message is log-safe (never a token) and tells an operator what Pipedrive said.
    const detail = appError.message !== appError.userMessage ? ` (${appError.message})` : "";
    // When a temporary stop ends, for scripts: ISO, UTC.
    const retryAt = appError.retryAt ? ` retry_at=${appError.retryAt.toISOString()}` : "";
    console.error(`enrich: ${appError.code}: ${appError.userMessage}${detail}${retryAt}`);
    return isTemporary(appError.code) ? EXIT_TRY_LATER : 1;
  } finally {
    await closeDb();
  }
}

process.exit(await main());
