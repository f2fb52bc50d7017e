import { loadPath, type Stats } from "../support/measure.ts";
import { profiling, size } from "../support/options.ts";
import { details, fmt, medianRound, progress, row, rows } from "../support/report.ts";
import type { Stack } from "../support/stack.ts";

// Scenario 4: the settings page against its floor (the bench's own app, bench/floor-app).

/** The card as rendered, without what legitimately differs per response: nonces and clock times. */
const cardMarkup = (html: string) =>
  (html.match(/<main[\s\S]*<\/main>/)?.[0] ?? "")
    .replace(/ nonce="[^"]*"/g, "")
    .replace(/<time[^>]*>[\s\S]*?<\/time>/g, "<time/>");

export async function settingsPage(stack: Stack) {
  const tenant = stack.floorTenant;
  const cookie = await stack.sessionCookie(tenant);
  const page = (c: number) => loadPath(stack.appUrl, "/settings/integrations", { cookie }, c, size.pageSeconds);
  const floorUrl = stack.floorUrl!;
  const floor = (c: number) => loadPath(floorUrl, "/bench-floor", {}, c, size.pageSeconds);

  const [pageHtml, floorHtml] = await Promise.all([
    fetch(`${stack.appUrl}/settings/integrations`, { headers: { cookie } }).then((r) => r.text()),
    fetch(`${floorUrl}/bench-floor`).then((r) => r.text()),
  ]);
  const sameMarkup = cardMarkup(pageHtml).length > 1000 && cardMarkup(pageHtml) === cardMarkup(floorHtml);
  rows.push({
    scenario: "4. settings page",
    metric: "floor renders the page's markup",
    ours: sameMarkup ? "same" : "differs",
    baseline: "",
    ratio: "",
    target: "same",
    met: sameMarkup ? "yes" : "no",
  });

  const result: Record<string, unknown> = { sameMarkup };
  for (const concurrency of [1, 10]) {
    progress(
      `settings page at concurrency ${concurrency}: 3 alternating rounds of ${size.pageSeconds} s, page and floor`,
    );
    await page(concurrency);
    await floor(concurrency);
    const pageRounds: Awaited<ReturnType<typeof page>>[] = [];
    const floorRounds: Awaited<ReturnType<typeof page>>[] = [];
    for (let round = 0; round < 3; round++) {
      const window = profiling.start(`settings page, c=${concurrency}, round ${round + 1}`);
      pageRounds.push(await page(concurrency));
      profiling.stop(window);
      floorRounds.push(await floor(concurrency));
    }
    const ours = medianRound(pageRounds, (r) => r.perSecond);
    const base = medianRound(floorRounds, (r) => r.perSecond);
    result[`c${concurrency}`] = { page: ours, floor: base, rounds: { page: pageRounds, floor: floorRounds } };
    const scenario = `4. settings page ÷ dynamic floor, c=${concurrency}`;
    const targets = concurrency === 10;
    row(
      scenario,
      "p50 latency",
      ours.p50,
      base.p50,
      "ms",
      targets ? { text: "≤ 2×", met: ours.p50 <= 2 * base.p50 } : undefined,
    );
    row(scenario, "p99 latency", ours.p99, base.p99, "ms");
    row(
      scenario,
      "throughput",
      ours.perSecond,
      base.perSecond,
      "req/s",
      targets ? { text: "≥ 0.5×", met: ours.perSecond >= 0.5 * base.perSecond } : undefined,
    );
    if (ours.non2xx || ours.errors || base.non2xx || base.errors) {
      row(scenario, "non-2xx or errors (must be 0)", ours.non2xx + ours.errors, base.non2xx + base.errors, "", {
        text: "0",
        met: ours.non2xx + ours.errors === 0,
      });
    }
  }
  // A prerendered page of the same build (its not-found page): what the framework alone costs.
  const staticPage = await loadPath(stack.appUrl, "/bench-static-page", {}, 10, size.pageSeconds);
  const c10 = result.c10 as { page: Stats };
  row("4. settings page ÷ static page, c=10", "p50 latency", c10.page.p50, staticPage.p50, "ms");
  row("4. settings page ÷ static page, c=10", "throughput", c10.page.perSecond, staticPage.perSecond, "req/s");
  result.staticPage = staticPage;

  const scripts = async (pathname: string, headers: Record<string, string>) => {
    const html = await (await fetch(`${stack.appUrl}${pathname}`, { headers })).text();
    const sources = [...html.matchAll(/<script[^>]+src="([^"]+)"/g)].map((m) => m[1]!);
    const sizes = await Promise.all(
      sources.map(
        async (src) => [src, (await (await fetch(new URL(src, stack.appUrl))).arrayBuffer()).byteLength] as const,
      ),
    );
    return new Map(sizes);
  };
  const pageJs = await scripts("/settings/integrations", { cookie });
  const sharedJs = await scripts("/bench-static-page", {});
  const kb = (entries: Iterable<number>) => [...entries].reduce((a, b) => a + b, 0) / 1024;
  const specific = [...pageJs].filter(([src]) => !sharedJs.has(src)).map(([, bytes]) => bytes);
  details.settingsPage = { ...result, firstLoadJsKb: kb(pageJs.values()), pageSpecificJsKb: kb(specific) };
  rows.push({
    scenario: "4. settings page",
    metric: "first-load JS (uncompressed)",
    ours: `${fmt(kb(pageJs.values()))} KB`,
    baseline: `${fmt(kb(sharedJs.values()))} KB`,
    ratio: `${fmt(kb(pageJs.values()) / kb(sharedJs.values()), 2)}×`,
    target: "",
    met: "",
  });
  // Only an enhancement (busy buttons): every flow works with JavaScript off (e2e/no-javascript.spec.ts).
  rows.push({
    scenario: "4. settings page",
    metric: "page-specific client JS",
    ours: `${fmt(kb(specific))} KB`,
    baseline: "",
    ratio: "",
    target: "≤ 2 KB",
    met: kb(specific) <= 2 ? "yes" : "no",
  });
}
