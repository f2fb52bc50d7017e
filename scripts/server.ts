import { createServer } from "node:http";
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

const app = next({ dev: false, dir: path.join(import.meta.dirname, ".."), port, hostname });
await app.prepare();
const handle = app.getRequestHandler();

const server = createServer((request, response) => {
  const forwarded = request.headers["x-forwarded-for"];
  request.headers[CLIENT_ADDRESS_HEADER] = clientAddress({
    forwardedFor: Array.isArray(forwarded) ? forwarded.join(",") : forwarded,
    socketAddress: request.socket.remoteAddress,
    trustedProxies,
  });
  void handle(request, response);
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
