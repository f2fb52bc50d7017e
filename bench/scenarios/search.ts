import { inProcess } from "../support/measure.ts";
import { size } from "../support/options.ts";
import { details, progress, row, rows } from "../support/report.ts";
import type { BenchTenant, Stack } from "../support/stack.ts";

// Scenario 5: the phone lookup's person search.

export async function personSearch(stack: Stack, tenants: BenchTenant[]) {
  // Lead enrichment's kind of caller: nobody is watching, so a burst limit is waited out.
  const { BATCH_PATIENCE, searchPersonsByPhone } = await import("../../lib/pipedrive/lookup/person-search.ts");
  const { pipedrive } = await import("../../lib/pipedrive/context.ts");
  const { newStats } = await import("../../lib/pipedrive/client/api-client.ts");
  // Typed as people type them: found in the first, second and a later form, and not found.
  const phones = [
    "+55 11 99999-0001",
    "(11) 99999-0001",
    "(11) 98888-0002",
    "11 3333 0002",
    "+1 415 555 0103",
    "+55 21 4000-0000",
  ];
  const run = async () => {
    const ctx = pipedrive();
    const stats = newStats();
    let failures = 0;
    let found = 0;
    const timing = await inProcess(size.lookups, 5, async (i) => {
      try {
        if (
          (
            await searchPersonsByPhone(ctx, tenants[i % tenants.length]!.tenantId, phones[i % phones.length]!, {
              stats,
              patience: BATCH_PATIENCE,
            })
          ).length
        )
          found++;
      } catch {
        failures++;
      }
    });
    const searches = (await stack.mock.requests()).filter((r) => r.path === "/api/v2/persons/search");
    return {
      ...timing,
      found,
      failures,
      calls: stats.calls,
      callsPerLookup: stats.calls / size.lookups,
      retries: stats.rateLimitRetries,
      slowdowns: stats.slowdowns,
      http429: searches.filter((r) => r.status === 429).length,
    };
  };
  progress(
    `person search: ${size.lookups} lookups, 5 at a time: friendly mock, strict mock (literal matching, 10 searches / 2 s per token), friendly with 429 after 10 / 2 s`,
  );
  await stack.mock.reset();
  const friendly = await run();
  await stack.mock.reset();
  await stack.mock.config({ profile: "strict" });
  const strict = await run();
  await stack.mock.reset();
  await stack.mock.faults({ searchRateLimit: { limit: 10, windowMs: 2000, retryAfterSeconds: 2 } });
  const limited = await run();
  await stack.mock.reset();
  details.personSearch = { friendly, strict, friendlyWith429: limited };
  row("5. search, strict ÷ friendly", "lookups/s", strict.perSecond, friendly.perSecond, "/s");
  row("5. search, strict ÷ friendly", "calls per lookup", strict.callsPerLookup, friendly.callsPerLookup, "");
  rows.push({
    scenario: "5. search, strict ÷ friendly",
    metric: "found / 429s / failures",
    ours: `${strict.found} / ${strict.http429} / ${strict.failures}`,
    baseline: `${friendly.found} / ${friendly.http429} / ${friendly.failures}`,
    ratio: "",
    target: "same found, 0 failures",
    met: strict.found === friendly.found && strict.failures === 0 ? "yes" : "no",
  });
  row("5. search, 429 after 10/2 s", "lookups/s", limited.perSecond, friendly.perSecond, "/s");
  rows.push({
    scenario: "5. search, 429 after 10/2 s",
    metric: "completed / retries / failures",
    ours: `${limited.ops - limited.failures} / ${limited.retries} / ${limited.failures}`,
    baseline: `${friendly.ops - friendly.failures} / ${friendly.retries} / ${friendly.failures}`,
    ratio: "",
    target: "0 failures",
    met: limited.failures === 0 ? "yes" : "no",
  });
}
