import { randomUUID } from "node:crypto";

import { afterAll, beforeAll, beforeEach } from "vitest";

import { db, sql } from "../../lib/db.ts";
import { env } from "../../lib/env.ts";
import { startAuthorization } from "../../lib/pipedrive/connect/authorize.ts";
import { completeCallback, type CallbackSession } from "../../lib/pipedrive/connect/callback.ts";
import { createPipedriveContext, type ContextOptions, type PipedriveContext } from "../../lib/pipedrive/context.ts";
import { ROUTES } from "../../lib/routes.ts";
import type { TenantUser } from "../../lib/users/user-store.ts";
import { allowMockPipedriveHost } from "../../scripts/support/embedded-postgres.ts";
import {
  freshIdentity,
  startMockPipedrive,
  type Behaviour,
  type Identity,
  type MockPipedrive,
  type MockProfile,
} from "../mock-pipedrive/index.ts";
import { createTestRows } from "../test-rows.ts";
import { createForeignRefresher } from "./foreign-refresher.ts";

// Shared by integration tests: each test makes its own tenant, so files run in parallel
// against one database without stepping on each other.

export const TEST_APP_URL = "http://localhost:3000";
export const TEST_REDIRECT_URI = `${TEST_APP_URL}${ROUTES.callback}`;

export async function createTenant(name = "Test Workspace") {
  const tenant = await db().tenant.create({ data: { name } });
  const make = async (role: "admin" | "member"): Promise<TenantUser> => {
    const user = await db().user.create({
      data: {
        tenantId: tenant.id,
        email: `${role}-${randomUUID()}@test.example`,
        passwordHash: "x",
        role,
        name: `${role} of ${name}`,
      },
    });
    return {
      id: user.id,
      tenantId: tenant.id,
      email: user.email,
      name: user.name,
      role,
      tenantName: name,
      sessionVersion: 0,
    };
  };
  return { tenantId: tenant.id, admin: await make("admin"), member: await make("member"), addUser: make };
}

export function testContext(mock: MockPipedrive, overrides: Partial<ContextOptions> = {}): PipedriveContext {
  return createPipedriveContext({
    oauthBaseUrl: mock.url,
    clientId: mock.clientId,
    clientSecret: mock.clientSecret,
    redirectUri: TEST_REDIRECT_URI,
    mockHost: mock.host,
    authSecret: "test-secret-test-secret-test-secret-0123",
    // The mock is local, but a busy machine can still take seconds: tests of timeouts set their own.
    timeoutMs: 30_000,
    // Most suites judge a refused refresh token at once; the grace period has tests of its own.
    verdictGraceMs: 0,
    sleep: async () => {},
    ...overrides,
  });
}

/**
 * Start → consent (Allow) → callback, as a browser would carry the state and its cookie. `who`
 * is the Pipedrive user who grants: by default one no other test uses, so each tenant has its
 * own install, as it would in Pipedrive.
 */
export async function connectThroughMock(
  ctx: PipedriveContext,
  mock: MockPipedrive,
  admin: TenantUser,
  grant: { who?: Identity; scopes?: string[] } = {},
) {
  const started = await startAuthorization(ctx, admin);
  const consent = new URL(started.url).searchParams;
  const state = consent.get("state") ?? "";
  const who = grant.who ?? freshIdentity();
  const { code } = mock.authorize(TEST_REDIRECT_URI, state, consent.get("code_challenge"), { ...grant, who });
  const result = await completeCallback(ctx, signedIn(admin), {
    query: { code, state },
    cookieState: started.cookie.value,
  });
  return { ...result, who };
}

/** The admin's answer on the confirmation page a Reconnect as another Pipedrive user was held for. */
export async function answerSwitch(
  ctx: PipedriveContext,
  admin: TenantUser,
  held: { confirm?: { value: string } },
  decision: "connect" | "cancel" = "connect",
) {
  if (!held.confirm) throw new Error("no switch was held for confirmation");
  const { cancelInstall, confirmInstall } = await import("../../lib/pipedrive/connect/marketplace.ts");
  return decision === "connect"
    ? confirmInstall(ctx, admin, held.confirm.value)
    : cancelInstall(ctx, admin, held.confirm.value);
}

/** A tenant connected through the mock, with the mock's request log cleared afterwards. */
export async function connectedTenant(pd: { mock: MockPipedrive; ctx: PipedriveContext }, who?: Identity) {
  const tenant = await createTenant();
  const result = await connectThroughMock(pd.ctx, pd.mock, tenant.admin, { who });
  if (result.outcome.result !== "connected") throw new Error(`connect failed: ${result.detail}`);
  pd.mock.reset();
  return { ...tenant, who: result.who };
}

/** A connected tenant whose next use must refresh. */
export async function staleTenant(pd: { mock: MockPipedrive; ctx: PipedriveContext }) {
  const tenant = await connectedTenant(pd);
  await expireAccessToken(tenant.tenantId);
  return tenant;
}

/** Polls `condition` every 10 ms; fails naming `what` after `ms` (generous: it returns as soon as it holds). */
export async function waitUntil(condition: () => boolean, what: string, ms = 20_000) {
  for (let waited = 0; waited < ms; waited += 10) {
    if (condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** The rows every suite stages (testing/test-rows.ts), on the suite's database. */
const shared = createTestRows({ query: (text, values) => sql().query(text, values) });
export const { tokenRow, connectionRow, auditEvents, auditTrail, expireAccessToken, makeDue } = shared;

export function tokenRequests(mock: MockPipedrive, grantType?: string) {
  return mock
    .requests()
    .filter((r) => r.path === "/oauth/token" && (grantType === undefined || r.grantType === grantType));
}

/** The mock's profile for this test run: the Pipedrive-facing suites run under both (vitest.config.ts). */
export const MOCK_PROFILE: MockProfile = process.env.MOCK_PIPEDRIVE_PROFILE === "strict" ? "strict" : "friendly";

/** A mock Pipedrive for the whole test file, reset before each test, and a context pointed at it. */
export function mockPipedriveForFile(behaviour: Partial<Behaviour> = {}) {
  const handles = {} as { mock: MockPipedrive; ctx: PipedriveContext };
  beforeAll(async () => {
    handles.mock = await startMockPipedrive({ redirectUris: [TEST_REDIRECT_URI], profile: MOCK_PROFILE, behaviour });
    handles.ctx = testContext(handles.mock);
  });
  afterAll(() => handles.mock.close());
  // The status view accepts this mock's host, as the app does. Not in beforeAll: a file may pick
  // its own database in a beforeAll that runs after this one.
  let allowed = false;
  beforeEach(async () => {
    handles.mock.reset();
    if (!allowed) await allowMockPipedriveHost(env().DATABASE_URL, handles.mock.host);
    allowed = true;
  });
  return handles;
}

/**
 * The lead-enrichment service's token code for the whole test file, pointed at the file's mock
 * and the suite's database.
 */
export function foreignRefresherForFile(pd: { mock: MockPipedrive }, databaseUrl: () => string) {
  let foreign: ReturnType<typeof createForeignRefresher> | undefined;
  beforeAll(() => {
    foreign = createForeignRefresher({
      databaseUrl: databaseUrl(),
      oauthBaseUrl: pd.mock.url,
      clientId: pd.mock.clientId,
      clientSecret: pd.mock.clientSecret,
    });
  });
  afterAll(() => foreign?.close());
  return { getToken: (tenantId: string) => foreign!.getToken(tenantId) };
}

/**
 * What the row's refresh token must be after a refresh (or a second exchange for the same
 * install): a new one when the mock rotates (or replaces the grant), else the same one.
 */
export function expectedRefreshToken(
  mock: MockPipedrive,
  before: string,
  after: string,
  after_: "refresh" | "reinstall" = "refresh",
): boolean {
  const changes =
    after_ === "refresh" ? mock.behaviour().refreshRotation : mock.behaviour().reinstall === "replace-grant";
  return changes ? after !== before : after === before;
}

/** A callback's session as the full path sees it: already decrypted, with no key to recognise. */
export function signedIn(user: TenantUser | null): CallbackSession {
  return { key: null, user: async () => user };
}
