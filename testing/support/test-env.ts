import { inject } from "vitest";

// Every test process talks to the run's database; the rest is what lib/env.ts requires.
process.env.DATABASE_URL = inject("databaseUrl");
process.env.AUTH_SECRET ??= "test-secret-test-secret-test-secret-0123";
process.env.PIPEDRIVE_CLIENT_ID = "mock-client-id";
process.env.PIPEDRIVE_CLIENT_SECRET = "mock-client-secret";
process.env.APP_URL = "http://localhost:3000";
