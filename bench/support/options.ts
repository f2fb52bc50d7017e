import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";

import { profileClock, type ProfileWindow } from "./cpu-profile.ts";

// `npm run bench [-- --quick] [-- --only=…] [-- --profile]`: what this run measures, and how much.

export const quick = process.argv.includes("--quick");
// `--only=callback,page` runs those scenarios (callback, token, stampede, page, search, keeper).
export const only =
  process.argv
    .find((arg) => arg.startsWith("--only="))
    ?.slice("--only=".length)
    .split(",") ?? null;
export const runs = (scenario: string) => !only || only.includes(scenario);
// `--profile`: a V8 CPU profile of the app under each measured load, top entries in bench/results/.
export const profileDir = process.argv.includes("--profile")
  ? mkdtempSync(path.join(os.tmpdir(), "crm-bench-prof-"))
  : null;
export const windows: ProfileWindow[] = [];
export const profiling = {
  start: (name: string): ProfileWindow => ({ name, from: profileClock(), to: 0n }),
  stop: (window: ProfileWindow) => {
    window.to = profileClock();
    if (profileDir) windows.push(window);
  },
};
export const size = quick
  ? {
      callbacks: 150,
      hotOps: 600,
      pageSeconds: 3,
      lookups: 12,
      stampedeCallers: 200,
      isolationReads: 300,
      keeperTenants: 200,
      scaleTenants: 20_000,
      foreignSeconds: 60,
    }
  : {
      callbacks: 500,
      hotOps: 5000,
      pageSeconds: 10,
      lookups: 40,
      stampedeCallers: 200,
      isolationReads: 1000,
      keeperTenants: 10_000,
      scaleTenants: 100_000,
      foreignSeconds: 180,
    };
