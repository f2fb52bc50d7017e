import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";

import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { ownDatabaseForFile } from "../../testing/support/scratch-databases.ts";
import {
  connectedTenant,
  connectThroughMock,
  expireAccessToken,
  mockPipedriveForFile,
  testContext,
} from "../../testing/support/vitest-harness.ts";
import { sql } from "../db.ts";
import { removeConnection } from "../pipedrive/connection/grant-store.ts";
import { searchPersonsByPhone } from "../pipedrive/lookup/person-search.ts";
import { getValidAccessToken } from "../pipedrive/tokens/access.ts";
import { deliverDueEvents, signatureOf } from "./event-delivery.ts";
import { eventLog, redeliver } from "./service-event-store.ts";

// Connection events, pushed to a receiver built on the `standardwebhooks` library, through the
// real flows on PostgreSQL: every event of a scripted history verified, in order, once per
// webhook-id; a receiver down for minutes loses nothing; a wrong secret is refused.

// Deliveries take every workspace's due events: this file keeps its own database.
await ownDatabaseForFile("crm_service_events");
const pd = mockPipedriveForFile();
const SECRET = `whsec_${Buffer.from("a-test-secret-of-thirty-two-bytes").toString("base64")}`;
const OTHER_SECRET = `whsec_${Buffer.from("another-secret-nobody-gave-them!").toString("base64")}`;

type Received = { id: string; type: string; data: Record<string, unknown> };
let receiver: Server;
let url = "";
let mode: "up" | "down" = "up";
const received: Received[] = [];
const refusedSignatures: string[] = [];

const bodyOf = async (request: IncomingMessage) => {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
};

beforeAll(async () => {
  const verifier = new Webhook(SECRET);
  receiver = createServer(async (request, response) => {
    const body = await bodyOf(request);
    if (mode === "down") return response.writeHead(503).end();
    try {
      const event = verifier.verify(body, request.headers as Record<string, string>) as Omit<Received, "id">;
      received.push({ id: String(request.headers["webhook-id"]), type: event.type, data: event.data });
      response.writeHead(204).end();
    } catch (error) {
      refusedSignatures.push(String(error));
      response.writeHead(400).end();
    }
  });
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/events`;
});
afterAll(() => new Promise((resolve) => receiver.close(resolve)));

const deliver = (now = new Date()) => deliverDueEvents({ url, secrets: [SECRET] }, { now: () => now });
const types = (tenantId: string) =>
  received
    .filter((event) => event.data.tenant_id === tenantId)
    .map((event) => event.type.replace("pipedrive.connection.", ""));

describe("connection events for services", () => {
  it("tell a scripted history in order, each verified, once per webhook-id, and nothing is lost while the receiver is down", async () => {
    const t = await connectedTenant(pd);
    // Reconnect as the same user.
    await connectThroughMock(pd.ctx, pd.mock, t.admin, { who: t.who });
    // Pipedrive refuses the renewal: checking first (a grace of its own), then the verdict.
    await expireAccessToken(t.tenantId);
    pd.mock.setFaults({ token: { mode: "invalid_grant", grant: "refresh_token" } });
    const patient = testContext(pd.mock, { verdictGraceMs: 60_000 });
    await getValidAccessToken(patient, t.tenantId).catch(() => null);

    // The receiver goes down for five minutes, while the history goes on.
    mode = "down";
    await deliver();
    expect(types(t.tenantId)).toEqual([]);
    await getValidAccessToken(pd.ctx, t.tenantId).catch(() => null);
    pd.mock.setFaults({});
    await connectThroughMock(pd.ctx, pd.mock, t.admin, { who: t.who });
    pd.mock.configure({ profile: "strict", dailyBudget: 0 });
    await searchPersonsByPhone(pd.ctx, t.tenantId, "+55 11 99999-0001").catch(() => null);
    pd.mock.reset();
    await sql().query(`DELETE FROM pipedrive_rate_limits`);
    await deliver(new Date(Date.now() + 60_000));
    expect(types(t.tenantId)).toEqual([]);
    const retried = await sql().query<{ attempts: number }>(
      `SELECT attempts FROM pipedrive_service_events WHERE tenant_id = $1 ORDER BY id LIMIT 1`,
      [t.tenantId],
    );
    expect(retried.rows[0]!.attempts).toBeGreaterThanOrEqual(2);

    // Up again five minutes on: everything arrives, in order, each once.
    mode = "up";
    await removeConnection(t.tenantId, "disconnected", t.admin.id, { by: "Admin" });
    await deliver(new Date(Date.now() + 6 * 60_000));
    expect(types(t.tenantId)).toEqual([
      "connected",
      "reconnected",
      "checking_access",
      "needs_reconnect",
      "recovered",
      "paused",
      "disconnected",
    ]);
    const mine = received.filter((event) => event.data.tenant_id === t.tenantId);
    expect(new Set(mine.map((event) => event.id)).size).toBe(mine.length);
    expect(mine[0]!.data).toMatchObject({
      condition: "connected",
      status: "connected",
      company: "Acme Mock Company",
      api_domain: new URL(pd.mock.url).host,
    });
    expect(mine.find((e) => e.type.endsWith("needs_reconnect"))!.data.message).toMatch(/reconnect/i);
    expect(JSON.stringify(mine)).not.toMatch(/access_token|refresh_token|"token"/);
    expect(refusedSignatures).toEqual([]);
  });

  it("are refused by a receiver holding another secret, and signed with both secrets during a rotation", async () => {
    const body = JSON.stringify({ type: "pipedrive.connection.connected", data: {} });
    const timestamp = Math.floor(Date.now() / 1000);
    const headers = (secrets: string[]) => ({
      "webhook-id": "msg_1",
      "webhook-timestamp": String(timestamp),
      "webhook-signature": secrets.map((s) => signatureOf(s, "msg_1", timestamp, body)).join(" "),
    });
    expect(() => new Webhook(SECRET).verify(body, headers([OTHER_SECRET]))).toThrow();
    expect(new Webhook(SECRET).verify(body, headers([OTHER_SECRET, SECRET]))).toMatchObject({
      type: "pipedrive.connection.connected",
    });
    expect(new Webhook(OTHER_SECRET).verify(body, headers([OTHER_SECRET, SECRET]))).toBeTruthy();
  });

  it("never wait on a slow receiver past their timeout", async () => {
    const t = await connectedTenant(pd);
    const slow = createServer(() => {});
    await new Promise<void>((resolve) => slow.listen(0, "127.0.0.1", resolve));
    try {
      const started = Date.now();
      const tried = await deliverDueEvents(
        { url: `http://127.0.0.1:${(slow.address() as AddressInfo).port}/`, secrets: [SECRET] },
        { timeoutMs: 300 },
      );
      expect(tried).toBeGreaterThanOrEqual(1);
      expect(Date.now() - started).toBeLessThan(tried * 300 + 5_000);
      const row = await sql().query<{ last_error: string }>(
        `SELECT last_error FROM pipedrive_service_events WHERE tenant_id = $1`,
        [t.tenantId],
      );
      expect(row.rows[0]!.last_error).toMatch(/abort|timeout/i);
    } finally {
      slow.closeAllConnections();
      await new Promise((resolve) => slow.close(resolve));
    }
  });

  it("stop trying a subscriber that failed five times in a row, for a minute, and keep its events due", async () => {
    const tenants = [];
    for (let i = 0; i < 7; i++) tenants.push(await connectedTenant(pd));
    let requests = 0;
    const failing = createServer((_request, response) => {
      requests++;
      response.writeHead(500).end();
    });
    await new Promise<void>((resolve) => failing.listen(0, "127.0.0.1", resolve));
    try {
      const target = { url: `http://127.0.0.1:${(failing.address() as AddressInfo).port}/`, secrets: [SECRET] };
      await deliverDueEvents(target);
      expect(requests).toBe(5);
      await deliverDueEvents(target, { now: () => new Date(Date.now() + 30_000) });
      expect(requests).toBe(5);
      const untried = await sql().query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pipedrive_service_events WHERE tenant_id = ANY($1::uuid[]) AND attempts = 0`,
        [tenants.map((t) => t.tenantId)],
      );
      expect(untried.rows[0]!.n).toBeGreaterThanOrEqual(2);
    } finally {
      await new Promise((resolve) => failing.close(resolve));
    }
  });

  it("are listed with their attempts, and given-up ones can be owed again under the same webhook-id", async () => {
    const t = await connectedTenant(pd);
    await sql().query(`UPDATE pipedrive_service_events SET dead_at = now(), attempts = 9 WHERE tenant_id = $1`, [
      t.tenantId,
    ]);
    const [dead] = (await eventLog(100)).filter((e) => e.tenantId === t.tenantId);
    expect(dead).toMatchObject({ type: "pipedrive.connection.connected", state: "given up", attempts: 9 });
    expect(await redeliver({ givenUp: true })).toBeGreaterThanOrEqual(1);
    await deliver();
    expect(received.filter((e) => e.data.tenant_id === t.tenantId).map((e) => e.id)).toEqual([dead!.webhookId]);
  });
});
