import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";

import { productionServer, ROOT } from "../../scripts/support/local-env.ts";
import { e2eAppEnv } from "../../testing/support/e2e-app.ts";
import { MOCK_URL, STATE_DIR } from "./env.ts";

// Another instance of the production build beside the e2e server, on the same database and
// mock, as a load balancer would run several: with a setting changed, or none.

export type Instance = { url: string; output: () => string; stop: () => Promise<void> };

export async function startInstance(
  port: number,
  settings: { set?: Record<string, string>; unset?: string[] } = {},
): Promise<Instance> {
  const url = `http://127.0.0.1:${port}`;
  const server = productionServer(port, { loopback: true });
  const databaseUrl = readFileSync(path.join(STATE_DIR, "database-url"), "utf8").trim();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...e2eAppEnv({ appUrl: url, mockPort: new URL(MOCK_URL).port, databaseUrl }),
    ...server.env,
    ...settings.set,
  };
  for (const name of settings.unset ?? []) delete env[name];
  let output = "";
  const app: ChildProcess = spawn(server.command, server.args, { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
  app.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  await new Promise<void>((resolve, reject) => {
    app.stdout!.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes("ready on")) resolve();
    });
    app.once("exit", (code) => reject(new Error(`the instance on ${port} exited with ${code}:\n${output}`)));
  });
  return {
    url,
    output: () => output,
    stop: async () => {
      if (app.exitCode !== null) return;
      const exited = new Promise((resolve) => app.once("exit", resolve));
      app.kill("SIGTERM");
      await exited;
    },
  };
}
