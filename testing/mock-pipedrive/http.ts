import type { IncomingMessage, ServerResponse } from "node:http";

// Small HTTP helpers the mock's handlers share.

export function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

export function json(res: ServerResponse, status: number, payload: unknown, headers: Record<string, string> = {}) {
  res.writeHead(status, { ...headers, "Content-Type": "application/json" }).end(JSON.stringify(payload));
}

export function html(res: ServerResponse, status: number, body: string) {
  res.writeHead(status, { "Content-Type": "text/html; charset=utf-8" }).end(body);
}

export const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function escape(value: string) {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The mock's own pages (consent, Marketplace), styled like a small product page. */
export function page(title: string, content: string) {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escape(title)} · Mock Pipedrive</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font-family:system-ui,sans-serif;background:#f4f5f7;color:#1b1f24;margin:0;display:grid;place-items:center;min-height:100vh}
main{background:#fff;border-radius:12px;padding:2rem;max-width:28rem;box-shadow:0 2px 12px rgba(0,0,0,.08)}
.actions{display:flex;gap:.75rem;margin-top:1.5rem}button{font:inherit;padding:.6rem 1.4rem;border-radius:8px;border:0;background:#1a7f37;color:#fff;cursor:pointer}
a.button{display:inline-block;text-decoration:none;font:inherit;padding:.6rem 1.4rem;border-radius:8px;background:#1a7f37;color:#fff}
button.secondary{background:#e7e9ec;color:#1b1f24}button:focus-visible{outline:3px solid #0b5cad;outline-offset:2px}p.brand{color:#555;font-size:.85rem}
fieldset{border:1px solid #d0d4d9;border-radius:8px;margin:1rem 0;padding:.5rem 1rem}label{display:block;margin:.35rem 0}</style>
</head><body><main><p class="brand">Mock Pipedrive (local)</p><h1>${escape(title)}</h1>${content}</main></body></html>`;
}

/**
 * A 200 JSON answer that sends its headers and first bytes, then nothing more until the client
 * hangs up: the answer a client's timeout ends halfway through its body.
 */
export function stalled(res: ServerResponse) {
  res.writeHead(200, { "Content-Type": "application/json" });
  res.write('{"success":true,"data":{');
}

/** A 200 JSON answer that keeps streaming, honouring backpressure, until the client hangs up. */
export function endless(res: ServerResponse) {
  res.writeHead(200, { "Content-Type": "application/json" });
  res.write('{"success":true,"data":{"name":"');
  const chunk = "a".repeat(64 * 1024);
  let open = true;
  res.on("close", () => (open = false));
  const pump = () => {
    while (open && res.write(chunk));
    if (open) res.once("drain", pump);
  };
  pump();
}
