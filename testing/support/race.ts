import { spawn } from "node:child_process";

import { tsx } from "../../scripts/support/local-env.ts";

export type CallerResult = { ok: boolean; accessToken?: string; error?: string; waitMs: number };

/** Runs `script` in `processes` processes and releases them together once all have loaded. */
export async function raceInProcesses(
  script: string,
  args: string[],
  processes: number,
  extraEnv: Record<string, string | undefined> = {},
): Promise<CallerResult[]> {
  const env = { ...process.env, ...extraEnv };
  const children = Array.from({ length: processes }, () =>
    spawn(...tsx(script, ...args), { env, stdio: ["pipe", "pipe", "inherit"] }),
  );
  const outputs = children.map(
    (child) =>
      new Promise<string>((resolve, reject) => {
        let out = "";
        child.stdout.on("data", (chunk: Buffer) => (out += chunk));
        child.on("exit", (code) =>
          code === 0 ? resolve(out.replace(/^ready\n/, "")) : reject(new Error(`worker exited ${code}`)),
        );
      }),
  );
  await Promise.all(children.map((child) => new Promise((resolve) => child.stdout.once("data", resolve))));
  children.forEach((child) => child.stdin.write("go\n"));
  return (await Promise.all(outputs)).flatMap((out) => JSON.parse(out) as CallerResult[]);
}
