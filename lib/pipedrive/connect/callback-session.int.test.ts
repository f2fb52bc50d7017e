import { randomBytes } from "node:crypto";

import { describe, expect, it } from "vitest";

import { freshIdentity } from "../../../testing/mock-pipedrive/index.ts";
import {
  auditTrail,
  createTenant,
  mockPipedriveForFile,
  TEST_REDIRECT_URI,
  tokenRequests,
  tokenRow,
} from "../../../testing/support/vitest-harness.ts";
import type { VerifiedSession } from "../../auth/session.ts";
import { sql } from "../../db.ts";
import { endSessions, findUserInTenant, type TenantUser } from "../../users/user-store.ts";
import { startAuthorization } from "./authorize.ts";
import { completeCallback } from "./callback.ts";

// The callback recognises the session its flow was started in, by the key recorded at the
// start, and then skips decrypting it. Every way that session can have changed since must
// send the callback to the full check instead.

const pd = mockPipedriveForFile();

const sessionKey = () => randomBytes(32).toString("base64url");
const hourAhead = () => new Date(Date.now() + 3600_000);

async function start(admin: TenantUser, session: VerifiedSession | null) {
  const started = await startAuthorization(pd.ctx, admin, session);
  const consent = new URL(started.url).searchParams;
  const state = consent.get("state") ?? "";
  const { code } = pd.mock.authorize(TEST_REDIRECT_URI, state, consent.get("code_challenge"), {
    who: freshIdentity(),
  });
  return { query: { code, state }, cookieState: started.cookie.value };
}

/** The callback's view of a request's session: its key, and the full decryption, counted. */
function presenting(key: string | null, decrypted: () => Promise<TenantUser | null>) {
  const calls = { decrypted: 0 };
  return {
    calls,
    session: {
      key,
      user: () => {
        calls.decrypted++;
        return decrypted();
      },
    },
  };
}

describe("the callback recognises the session a flow was started in", () => {
  it("connects in the same session without decrypting it again", async () => {
    const { tenantId, admin } = await createTenant();
    const key = sessionKey();
    const input = await start(admin, { key, expiresAt: hourAhead() });
    const { calls, session } = presenting(key, async () => admin);
    const result = await completeCallback(pd.ctx, session, input);
    expect(result.outcome).toEqual({ result: "connected" });
    expect(result.user?.id).toBe(admin.id);
    expect(calls.decrypted).toBe(0);
    expect(await tokenRow(tenantId)).not.toBeNull();
    expect(await auditTrail(tenantId)).toEqual(["connected"]);
  });

  it("sends another session to the full check, which refuses a state issued to someone else", async () => {
    const victim = await createTenant("Victim");
    const other = await createTenant("Other");
    const input = await start(victim.admin, { key: sessionKey(), expiresAt: hourAhead() });
    const { calls, session } = presenting(sessionKey(), async () => other.admin);
    const result = await completeCallback(pd.ctx, session, input);
    expect(result.outcome).toEqual({ result: "error", reason: "state_invalid" });
    expect(calls.decrypted).toBe(1);
    expect(await tokenRow(victim.tenantId)).toBeNull();
    expect(await tokenRow(other.tenantId)).toBeNull();
    expect(tokenRequests(pd.mock, "authorization_code")).toHaveLength(0);
  });

  it("does not recognise a session ended since the start (signed out everywhere)", async () => {
    const { tenantId, admin } = await createTenant();
    const key = sessionKey();
    const input = await start(admin, { key, expiresAt: hourAhead() });
    await endSessions(admin.id);
    // The full check re-reads the user under the version the session token carries.
    const { calls, session } = presenting(key, () => findUserInTenant(admin.id, tenantId, admin.sessionVersion));
    const result = await completeCallback(pd.ctx, session, input);
    expect(result.outcome).toEqual({ result: "error", reason: "session_missing" });
    expect(calls.decrypted).toBe(1);
    expect(await tokenRow(tenantId)).toBeNull();
  });

  it("does not recognise a session that has expired since the start", async () => {
    const { tenantId, admin } = await createTenant();
    const key = sessionKey();
    const input = await start(admin, { key, expiresAt: new Date(Date.now() - 1000) });
    const { calls, session } = presenting(key, async () => null);
    const result = await completeCallback(pd.ctx, session, input);
    expect(result.outcome).toEqual({ result: "error", reason: "session_missing" });
    expect(calls.decrypted).toBe(1);
    expect(await tokenRow(tenantId)).toBeNull();
  });

  it("re-reads the role: a user demoted since the start is refused", async () => {
    const { tenantId, admin } = await createTenant();
    const key = sessionKey();
    const input = await start(admin, { key, expiresAt: hourAhead() });
    await sql().query(`UPDATE users SET role = 'member' WHERE id = $1`, [admin.id]);
    const { calls, session } = presenting(key, async () => admin);
    const result = await completeCallback(pd.ctx, session, input);
    expect(result.outcome).toEqual({ result: "error", reason: "forbidden" });
    expect(calls.decrypted).toBe(0);
    expect(await tokenRow(tenantId)).toBeNull();
    expect(tokenRequests(pd.mock, "authorization_code")).toHaveLength(0);
  });

  it("claims a state once: the same callback again, or two at once, gets exactly one connect", async () => {
    const { tenantId, admin } = await createTenant();
    const key = sessionKey();
    const input = await start(admin, { key, expiresAt: hourAhead() });
    const both = await Promise.all(
      [0, 1].map(() => completeCallback(pd.ctx, presenting(key, async () => admin).session, input)),
    );
    const again = await completeCallback(pd.ctx, presenting(key, async () => admin).session, input);
    const outcomes = [...both, again].map((r) => (r.outcome.result === "error" ? r.outcome.reason : r.outcome.result));
    expect(outcomes.sort()).toEqual(["connected", "state_reused", "state_reused"]);
    expect(tokenRequests(pd.mock, "authorization_code")).toHaveLength(1);
    expect(await auditTrail(tenantId)).toEqual(["connected"]);
  });

  it("gives a flow started without a recorded session, or a request without one, the full check", async () => {
    const { tenantId, admin } = await createTenant();
    const unrecorded = await start(admin, null);
    const first = presenting(sessionKey(), async () => admin);
    expect((await completeCallback(pd.ctx, first.session, unrecorded)).outcome).toEqual({
      result: "connected",
    });
    expect(first.calls.decrypted).toBe(1);

    const recorded = await start(admin, { key: sessionKey(), expiresAt: hourAhead() });
    const none = presenting(null, async () => null);
    const result = await completeCallback(pd.ctx, none.session, recorded);
    expect(result.outcome).toEqual({ result: "error", reason: "session_missing" });
    expect(none.calls.decrypted).toBe(1);
    expect(await auditTrail(tenantId)).toEqual(["connected"]);
  });
});
