import { ROUTES } from "../../lib/routes.ts";
import { startMockPipedrive } from "./index.ts";

// `npm run mock:pipedrive`: the mock as a standalone server (demo mode, QA, benchmarks).
const port = Number(process.env.MOCK_PIPEDRIVE_PORT ?? 4010);
const appUrl = (process.env.APP_URL ?? "http://localhost:3000").replace(/\/+$/, "");
const redirectUris = (process.env.MOCK_PIPEDRIVE_REDIRECT_URIS ?? `${appUrl}${ROUTES.callback}`).split(",");

const mock = await startMockPipedrive({
  port,
  clientId: process.env.PIPEDRIVE_CLIENT_ID ?? "mock-client-id",
  clientSecret: process.env.PIPEDRIVE_CLIENT_SECRET ?? "mock-client-secret",
  redirectUris,
  tokenLifetimeSeconds: process.env.MOCK_PIPEDRIVE_TOKEN_LIFETIME
    ? Number(process.env.MOCK_PIPEDRIVE_TOKEN_LIFETIME)
    : undefined,
  profile: process.env.MOCK_PIPEDRIVE_PROFILE === "strict" ? "strict" : "friendly",
});
console.log(
  `[mock-pipedrive] listening on ${mock.url} (${mock.profile()} profile; client_id ${mock.clientId}; redirect ${redirectUris.join(", ")})`,
);

const stop = () => void mock.close().then(() => process.exit(0));
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
