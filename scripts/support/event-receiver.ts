import { randomBytes } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

import { Webhook } from "standardwebhooks";

import { LOOPBACK } from "./local-env.ts";

// The demo's subscriber to connection events (`npm run dev` without EVENT_WEBHOOK_URL): it
// verifies each delivery with the `standardwebhooks` library, as a service would, and prints it,
// so a new user sees events happen. Loopback only, with a secret of its own made for the run.

export async function startEventReceiver(
  port: number,
): Promise<{ url: string; secret: string; stop: () => Promise<void> }> {
  const secret = `whsec_${randomBytes(32).toString("base64")}`;
  const hook = new Webhook(secret);
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size <= 64 * 1024) chunks.push(chunk);
    });
    request.on("end", () => {
      try {
        const event = hook.verify(
          Buffer.concat(chunks).toString("utf8"),
          request.headers as Record<string, string>,
        ) as {
          type: string;
          data: { tenant_id?: string; company?: string | null; pipedrive_user?: string | null; condition?: string };
        };
        const who = [event.data.company, event.data.pipedrive_user].filter(Boolean).join(", ");
        console.log(
          `[events] ${event.type} (${event.data.condition}) · workspace ${event.data.tenant_id}${who ? ` · ${who}` : ""} · signature verified`,
        );
        response.writeHead(204).end();
      } catch (error) {
        console.log(`[events] refused a delivery: ${error instanceof Error ? error.message : String(error)}`);
        response.writeHead(400).end();
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, LOOPBACK, resolve);
  });
  const { port: bound } = server.address() as AddressInfo;
  return {
    url: `http://${LOOPBACK}:${bound}/events`,
    secret,
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
