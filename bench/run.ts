import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";

import { ROOT } from "../scripts/support/local-env.ts";
import { callbackOverhead, connectAll } from "./scenarios/callback.ts";
import { dueQueryAtScale, foreignWhileKeeping, isolation, keeperPass } from "./scenarios/keeper.ts";
import { settingsPage } from "./scenarios/page.ts";
import { scale } from "./scenarios/scale.ts";
import { personSearch } from "./scenarios/search.ts";
import { services } from "./scenarios/services.ts";
import { stampede } from "./scenarios/stampede.ts";
import { tokenHotPath } from "./scenarios/token.ts";
import { mainThreadProfile, profileReport } from "./support/cpu-profile.ts";
import { only, profileDir, quick, runs, size, windows } from "./support/options.ts";
import { details, fmt, printTable, progress, rows, report as scenarioReport } from "./support/report.ts";
import { ensureBuild, startStack } from "./support/stack.ts";

// `npm run bench [-- --quick]`: every figure next to a baseline measured in this same run; each
// scenario is a module of bench/scenarios/.

async function main() {
  const started = Date.now();
  await ensureBuild(progress, { floor: true });
  progress("starting embedded PostgreSQL, mock Pipedrive, the production build and the baseline server");
  const stack = await startStack({
    appPort: 3300,
    mockPort: 4310,
    baselinePort: 3310,
    floorPort: 3320,
    tenants: 200,
    cpuProfileDir: profileDir ?? undefined,
  });
  Object.assign(process.env, stack.appEnv); // lib/ code run in this process talks to the same stack
  try {
    progress(`connecting the stack's ${stack.tenants.length} workspaces`);
    await connectAll(stack);
    const connected = stack.tenants;
    if (runs("callback")) await callbackOverhead(stack);
    if (runs("token")) await tokenHotPath(stack, connected.slice(2));
    if (runs("stampede")) await stampede(stack, connected[0]!, connected[1]!);
    if (runs("page")) await settingsPage(stack);
    if (runs("search")) await personSearch(stack, connected.slice(2, 12));
    if (runs("services")) await services(stack, connected.slice(2));
    const scenarios = scenarioReport;
    if (runs("keeper")) {
      await isolation(stack, scenarios, connected[3]!, connected.slice(20, 40), size.isolationReads);
      const spare = await stack.addTenants(size.keeperTenants + 20);
      await keeperPass(stack, scenarios, spare.slice(0, size.keeperTenants), 4);
      await dueQueryAtScale(stack, scenarios, { small: 1_000, large: size.scaleTenants });
      await foreignWhileKeeping(stack, scenarios, spare.slice(size.keeperTenants), size.foreignSeconds);
    }
    // Last: it adds many workspaces to the stack's database.
    if (runs("scale")) await scale(stack, scenarios, size.scaleTenants, size.pageSeconds);
    const { rows: version } = await stack.pool.query<{ server_version: string }>(`SHOW server_version`);
    const machine = {
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model,
      memoryGb: Math.round(os.totalmem() / 2 ** 30),
      node: process.version,
      postgres: version[0]?.server_version,
      platform: `${os.platform()} ${os.release()}`,
    };
    const report = {
      date: new Date().toISOString(),
      quick,
      only,
      seconds: (Date.now() - started) / 1000,
      machine,
      rows,
      details,
    };
    mkdirSync(path.join(ROOT, "bench", "results"), { recursive: true });
    writeFileSync(path.join(ROOT, "bench", "results", "latest.json"), JSON.stringify(report, null, 2));
    printTable(machine);
    console.log(
      `\n${rows.filter((r) => r.met === "yes").length} of ${rows.filter((r) => r.met).length} targets met · ${fmt(report.seconds, 0)} s · bench/results/latest.json`,
    );
  } finally {
    const { closeDb } = await import("../lib/db.ts");
    await closeDb();
    await stack.stop();
  }
  if (profileDir) {
    // The app wrote its profile as it stopped; rounds of one load are read together.
    const merged = windows.map((w) => ({ ...w, name: w.name.replace(/, round \d+$/, "") }));
    writeFileSync(
      path.join(profileDir, "windows.json"),
      JSON.stringify(merged, (_k, v) => (typeof v === "bigint" ? String(v) : v)),
    );
    const { markdown, loads } = profileReport(mainThreadProfile(profileDir), merged);
    const header = `# CPU profile of the production build under the bench's loads\n\n${new Date().toISOString()}${quick ? " · quick mode" : ""}. Self time per function (minified names are Next.js's server bundles), then per package.\n\n`;
    writeFileSync(path.join(ROOT, "bench", "results", "profile.md"), header + markdown);
    writeFileSync(path.join(ROOT, "bench", "results", "profile.json"), JSON.stringify(loads, null, 2));
    console.log(`CPU profile: bench/results/profile.md (raw: ${profileDir})`);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
