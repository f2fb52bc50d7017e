import { execFile, spawn, type ChildProcess } from "node:child_process";
import path from "node:path";

import { ROOT, tsx } from "../../scripts/support/local-env.ts";

/** Runs one of the project's TypeScript scripts as a user would, with extra environment. */
export function runScript(
  script: string,
  args: string[],
  extraEnv: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      ...tsx(path.join(ROOT, script), ...args),
      { env: { ...process.env, ...extraEnv }, timeout: 30_000 },
      (error, stdout, stderr) =>
        resolve({ code: error ? (typeof error.code === "number" ? error.code : null) : 0, stdout, stderr }),
    );
  });
}

/** Starts one of the project's long-running scripts (the keeper worker) with extra environment. */
export function startScript(script: string, extraEnv: Record<string, string>): ChildProcess {
  return spawn(...tsx(path.join(ROOT, script)), {
    env: { ...process.env, ...extraEnv },
    stdio: ["ignore", "ignore", "inherit"],
  });
}
