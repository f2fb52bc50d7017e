import { createServer, type ServerResponse } from "node:http";
import path from "node:path";

import next from "next";

import { CLIENT_ADDRESS_HEADER, clientAddress, parseTrustedProxies } from "../lib/http/client-address.ts";

// The production server (`npm start`, QA's build, the bench): Next.js's own request handler
// behind a plain node:http server, for one reason: only here is the socket's address known.
// Each request carries the client's address, worked out from TRUSTED_PROXIES, in one header the
// app believes only because this process says it set it. `next start` on its own cannot do that.

const port = Number(process.env.PORT || 3000);
const hostname = process.env.HOSTNAME || undefined;
const trustedProxies = parseTrustedProxies(process.env.TRUSTED_PROXIES);
process.env.CLIENT_ADDRESS_FROM_SERVER = "1";

// The app's directory: the repository's, unless given (the bench serves its floor app this way).
const dir = process.argv[2] ? path.resolve(process.argv[2]) : path.join(import.meta.dirname, "..");
const app = next({ dev: false, dir, port, hostname });
await app.prepare();
const handle = app.getRequestHandler();

// Every method a route of ours answers; anything else (TRACE, CONNECT, WebDAV's) never reaches Next.js.
const METHODS = new Set(["GET", "HEAD", "POST", "DELETE", "OPTIONS"]);
let warnedAboutForwardedFor = false;

/** A refusal that needs no application code: a short JSON body, nothing echoed. */
function refuse(response: ServerResponse, status: 400 | 405, code: string, headers: Record<string, string> = {}) {
  response.writeHead(status, { "Content-Type": "application/json", "Cache-Control": "no-store", ...headers });
  response.end(JSON.stringify({ error: { code } }));
}

const server = createServer((request, response) => {
  if (!METHODS.has(request.method ?? ""))
    return refuse(response, 405, "method_not_allowed", { Allow: [...METHODS].join(", ") });
  // A NUL byte is never part of a path or a query of ours, and the database refuses it in text.
  if (/%00|\u0000/i.test(request.url ?? "")) return refuse(response, 400, "bad_request");
  const forwarded = request.headers["x-forwarded-for"];
  if (trustedProxies === 0) {
    // With nobody in front to vouch for them, a client's own request id and addresses are not believed.
    delete request.headers["x-request-id"];
    if (forwarded !== undefined && !warnedAboutForwardedFor) {
      warnedAboutForwardedFor = true;
      console.warn(
        JSON.stringify({
          level: 40,
          time: Date.now(),
          msg: "X-Forwarded-For arrived but TRUSTED_PROXIES is 0: rate limits use the socket's address. Behind a load balancer, set TRUSTED_PROXIES=1 (docs/security.md, Trust settings).",
        }),
      );
    }
  }
  request.headers[CLIENT_ADDRESS_HEADER] = clientAddress({
    forwardedFor: Array.isArray(forwarded) ? forwarded.join(",") : forwarded,
    socketAddress: request.socket.remoteAddress,
    trustedProxies,
  });
  void handle(request, response);
});
// Node hands CONNECT to this event instead of the request handler; nothing of ours tunnels.
server.on("connect", (_request, socket) => {
  socket.end(
    `HTTP/1.1 405 Method Not Allowed\r\nAllow: ${[...METHODS].join(", ")}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`,
  );
});
server.listen(port, hostname, () => {
  console.log(`[app] ready on http://${hostname ?? "localhost"}:${port} (trusted proxies: ${trustedProxies})`);
});

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    server.close(() => process.exit(0));
    server.closeIdleConnections();
    setTimeout(() => process.exit(0), 5000).unref();
  });
}
