import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";

import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { freshIdentity } from "../../testing/mock-pipedrive/index.ts";
import { runScript } from "../../testing/support/run-script.ts";
import { ownDatabaseForFile } from "../../testing/support/scratch-databases.ts";
import { startSmtpServer } from "../../testing/support/smtp.ts";
import {
  answerSwitch,
  auditEvents,
  connectedTenant,
  connectThroughMock,
  expireAccessToken,
  mockPipedriveForFile,
  testContext,
  waitUntil,
} from "../../testing/support/vitest-harness.ts";
import { sql } from "../db.ts";
import { activeAlerts } from "../operator-alert-store.ts";
import { markApiRefused, markApiWorks, noteResumedPauses } from "../pipedrive/connection/connection-store.ts";
import { removeConnection } from "../pipedrive/connection/grant-store.ts";
import { searchPersonsByPhone } from "../pipedrive/lookup/person-search.ts";
import { getValidAccessToken } from "../pipedrive/tokens/access.ts";
import {
  deliverDueEvents,
  signatureOf,
  startEventDelivery,
  TELL_OPERATORS_AFTER_MS,
  type Subscriber,
} from "./event-delivery.ts";
import { deliveryStats, eventLog, nameSubscribers, redeliver } from "./service-event-store.ts";

// Connection events, pushed to a receiver built on the `standardwebhooks` library, through the
// real flows on PostgreSQL: every event of a scripted history verified, in order, once per
// webhook-id; a receiver down for minutes loses nothing; a wrong secret is refused.

// Deliveries take every workspace's due events: this file keeps its own database.
await ownDatabaseForFile("crm_service_events");
const pd = mockPipedriveForFile();
const SECRET = `whsec_${Buffer.from("a-test-secret-of-thirty-two-bytes").toString("base64")}`;
const OTHER_SECRET = `whsec_${Buffer.from("another-secret-nobody-gave-them!").toString("base64")}`;

type Received = { id: string; type: string; data: Record<string, unknown> };

/** A subscriber's receiver, built on `standardwebhooks`: what it verified, and what it refused. */
async function startReceiver(secret = SECRET) {
  const verifier = new Webhook(secret);
  const state = { mode: "up" as "up" | "down", received: [] as Received[], refused: [] as string[], url: "" };
  const server = createServer(async (request, response) => {
    const body = await bodyOf(request);
    if (state.mode === "down") return response.writeHead(503).end();
    try {
      const event = verifier.verify(body, request.headers as Record<string, string>) as Omit<Received, "id">;
      state.received.push({ id: String(request.headers["webhook-id"]), type: event.type, data: event.data });
      response.writeHead(204).end();
    } catch (error) {
      state.refused.push(String(error));
      response.writeHead(400).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/events`;
  return Object.assign(state, {
    typesOf: (tenantId: string) =>
      state.received
        .filter((event) => event.data.tenant_id === tenantId)
        .map((event) => event.type.replace("pipedrive.connection.", "")),
    close: () => new Promise((resolve) => server.close(resolve)),
  });
}

const bodyOf = async (request: IncomingMessage) => {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
};

let main: Awaited<ReturnType<typeof startReceiver>>;
let second: Awaited<ReturnType<typeof startReceiver>>;
let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
const subscriber = (name: string, url: string): Subscriber => ({ name, url, secrets: [SECRET] });
// An event is owed only to the subscribers named when it is made. A test that takes its receiver
// down names its subscriber just before its own events, so the down receiver meets only those
// (five failures in a row would rest its circuit breaker for a real minute).
const NAMES = ["main", "slow", "failing"];

beforeAll(async () => {
  [main, second, smtp] = await Promise.all([startReceiver(), startReceiver(), startSmtpServer()]);
  await nameSubscribers(NAMES);
});
afterAll(() => Promise.all([main.close(), second.close(), smtp.close()]));

const deliver = (now = new Date()) => deliverDueEvents(subscriber("main", main.url), { now: () => now });
const types = (tenantId: string) => main.typesOf(tenantId);

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
    main.mode = "down";
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
      `SELECT attempts FROM pipedrive_event_deliveries WHERE subscriber = 'main' AND tenant_id = $1 ORDER BY event_id LIMIT 1`,
      [t.tenantId],
    );
    expect(retried.rows[0]!.attempts).toBeGreaterThanOrEqual(2);

    // The daily pause's time comes, once however many scans see it; then another Pipedrive user.
    const until = (await auditEvents(t.tenantId)).find((e) => e.event === "paused")!.detail.until as string;
    expect(await noteResumedPauses(new Date(Date.parse(until) - 1000))).toBe(0);
    expect(await noteResumedPauses(new Date(Date.parse(until) + 1000))).toBeGreaterThanOrEqual(1);
    expect(await noteResumedPauses(new Date(Date.parse(until) + 61_000))).toBe(0);
    const held = await connectThroughMock(pd.ctx, pd.mock, t.admin, { who: freshIdentity() });
    await answerSwitch(pd.ctx, t.admin, held);
    await removeConnection(t.tenantId, "uninstalled", null, {});
    await connectThroughMock(pd.ctx, pd.mock, t.admin, { who: freshIdentity() });

    // Up again five minutes on: everything arrives, in order, each once.
    main.mode = "up";
    await removeConnection(t.tenantId, "disconnected", t.admin.id, { by: "Admin" });
    await deliver(new Date(Date.now() + 6 * 60_000));
    expect(types(t.tenantId)).toEqual([
      "connected",
      "reconnected",
      "checking_access",
      "needs_reconnect",
      "recovered",
      "paused",
      "resumed",
      "switched_user",
      "uninstalled",
      "connected",
      "disconnected",
    ]);
    const mine = main.received.filter((event) => event.data.tenant_id === t.tenantId);
    expect(new Set(mine.map((event) => event.id)).size).toBe(mine.length);
    expect(mine[0]!.data).toMatchObject({
      condition: "connected",
      status: "connected",
      company: "Acme Mock Company",
      api_domain: new URL(pd.mock.url).host,
    });
    expect(mine.find((e) => e.type.endsWith("needs_reconnect"))!.data.message).toMatch(/reconnect/i);
    expect(JSON.stringify(mine)).not.toMatch(/access_token|refresh_token|"token"/);
    expect(main.refused).toEqual([]);
  });

  it("say paused and resumed, with the condition, when Pipedrive's API refuses a connection and then works again", async () => {
    const t = await connectedTenant(pd);
    for (const refusal of ["subscription_lapsed", "access_forbidden"] as const) {
      await markApiRefused(t.tenantId, refusal, { detail: "HTTP 40x", call: "persons/search" }, new Date());
      await markApiWorks(t.tenantId, "persons/search", new Date());
    }
    await deliver();
    const mine = main.received.filter((e) => e.data.tenant_id === t.tenantId);
    expect(mine.map((e) => [e.type.replace("pipedrive.connection.", ""), e.data.condition])).toEqual([
      ["connected", "connected"],
      ["paused", "subscription_lapsed"],
      ["resumed", "connected"],
      ["paused", "access_forbidden"],
      ["resumed", "connected"],
    ]);
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
        subscriber("slow", `http://127.0.0.1:${(slow.address() as AddressInfo).port}/`),
        { timeoutMs: 300 },
      );
      expect(tried).toBeGreaterThanOrEqual(1);
      expect(Date.now() - started).toBeLessThan(tried * 300 + 5_000);
      const row = await sql().query<{ last_error: string }>(
        `SELECT last_error FROM pipedrive_event_deliveries WHERE subscriber = 'slow' AND tenant_id = $1`,
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
      const target = subscriber("failing", `http://127.0.0.1:${(failing.address() as AddressInfo).port}/`);
      await deliverDueEvents(target);
      expect(requests).toBe(5);
      await deliverDueEvents(target, { now: () => new Date(Date.now() + 30_000) });
      expect(requests).toBe(5);
      const untried = await sql().query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pipedrive_event_deliveries
         WHERE subscriber = 'failing' AND tenant_id = ANY($1::uuid[]) AND attempts = 0`,
        [tenants.map((t) => t.tenantId)],
      );
      expect(untried.rows[0]!.n).toBeGreaterThanOrEqual(2);
    } finally {
      await new Promise((resolve) => failing.close(resolve));
    }
  });

  it("are listed with their attempts, and given-up ones can be owed again under the same webhook-id", async () => {
    const t = await connectedTenant(pd);
    await sql().query(
      `UPDATE pipedrive_event_deliveries SET dead_at = now(), attempts = 9 WHERE subscriber = 'main' AND tenant_id = $1`,
      [t.tenantId],
    );
    const [dead] = (await eventLog(500)).filter((e) => e.tenantId === t.tenantId && e.subscriber === "main");
    expect(dead).toMatchObject({ type: "pipedrive.connection.connected", state: "given up", attempts: 9, lagMs: null });
    expect(await redeliver({ givenUp: true }, "main")).toBeGreaterThanOrEqual(1);
    await deliver();
    const [again] = (await eventLog(500)).filter((e) => e.tenantId === t.tenantId && e.subscriber === "main");
    expect(again).toMatchObject({ state: "delivered", attempts: 1, lagMs: expect.any(Number) });
    expect(main.received.filter((e) => e.data.tenant_id === t.tenantId).map((e) => e.id)).toEqual([dead!.webhookId]);
  });

  it("reach several subscribers, each in order and once per webhook-id; one that is down holds the other back in nothing", async () => {
    await nameSubscribers([...NAMES, "second"]);
    const t = await connectedTenant(pd);
    await connectThroughMock(pd.ctx, pd.mock, t.admin, { who: t.who });
    second.mode = "down";
    await Promise.all([deliver(), deliverDueEvents(subscriber("second", second.url))]);
    expect(types(t.tenantId)).toEqual(["connected", "reconnected"]);
    expect(second.typesOf(t.tenantId)).toEqual([]);

    await removeConnection(t.tenantId, "disconnected", t.admin.id, { by: "Admin" });
    second.mode = "up";
    const later = new Date(Date.now() + 5 * 60_000);
    await Promise.all([deliver(later), deliverDueEvents(subscriber("second", second.url), { now: () => later })]);
    expect(types(t.tenantId)).toEqual(["connected", "reconnected", "disconnected"]);
    expect(second.typesOf(t.tenantId)).toEqual(["connected", "reconnected", "disconnected"]);
    const ids = (r: typeof main) => r.received.filter((e) => e.data.tenant_id === t.tenantId).map((e) => e.id);
    expect(ids(second)).toEqual(ids(main));
    expect(new Set(ids(second)).size).toBe(3);
    const stats = await deliveryStats(new Date());
    expect(stats.find((s) => s.subscriber === "second")).toMatchObject({ owed: 0 });
  });

  it("are owed to a subscriber only from when it is named, and no longer once it is not", async () => {
    const before = await connectedTenant(pd);
    await nameSubscribers([...NAMES, "newcomer"]);
    const after = await connectedTenant(pd);
    const owed = async (tenantId: string) =>
      (
        await sql().query<{ subscriber: string }>(
          `SELECT subscriber FROM pipedrive_event_deliveries WHERE tenant_id = $1 ORDER BY subscriber`,
          [tenantId],
        )
      ).rows.map((r) => r.subscriber);
    expect(await owed(before.tenantId)).not.toContain("newcomer");
    expect(await owed(after.tenantId)).toContain("newcomer");
    await nameSubscribers(NAMES);
    expect(await owed(after.tenantId)).not.toContain("newcomer");
  });

  it("tell the operators once, by mail and an alert, when a subscriber has failed for an hour, and clear when it answers", async () => {
    await nameSubscribers([...NAMES, "down-long"]);
    const t = await connectedTenant(pd);
    const down = await startReceiver();
    down.mode = "down";
    const target = subscriber("down-long", down.url);
    const operators = { smtpUrl: smtp.url, to: ["ops@crm.test"] };
    const at = (ms: number) => ({ now: () => new Date(Date.now() + ms), operators });
    try {
      await deliverDueEvents(target, at(0));
      await deliverDueEvents(target, at(TELL_OPERATORS_AFTER_MS / 2));
      expect(smtp.received.filter((m) => m.to.includes("ops@crm.test"))).toEqual([]);
      await deliverDueEvents(target, at(TELL_OPERATORS_AFTER_MS + 60_000));
      await deliverDueEvents(target, at(TELL_OPERATORS_AFTER_MS + 30 * 60_000));
      const mails = smtp.received.filter((m) => m.to.includes("ops@crm.test"));
      expect(mails).toHaveLength(1);
      expect(mails[0]!.subject).toContain('"down-long"');
      expect(mails[0]!.text).toMatch(/HTTP 503/);
      expect(mails[0]!.text).toContain("npm run events -- list");
      expect(mails[0]!.text).not.toContain(SECRET);
      expect((await activeAlerts()).map((a) => a.kind)).toContain("event_subscriber_failing:down-long");

      down.mode = "up";
      await deliverDueEvents(target, at(TELL_OPERATORS_AFTER_MS + 3 * 3_600_000));
      expect(down.typesOf(t.tenantId)).toEqual(["connected"]);
      expect((await activeAlerts()).map((a) => a.kind)).not.toContain("event_subscriber_failing:down-long");
    } finally {
      await down.close();
    }
  });

  it("are shown to operators by npm run events, per subscriber with lag, and owed again on their word", async () => {
    const t = await connectedTenant(pd);
    await deliver();
    const list = await runScript("scripts/events.ts", ["list"], {});
    expect(list.code).toBe(0);
    const line = list.stdout.split("\n").find((l) => l.includes(t.tenantId) && l.includes(" main "));
    expect(line).toMatch(/pipedrive\.connection\.connected .* delivered {2}attempts 1 {2}lag \d+ ms {2}last HTTP 204/);
    const webhookId = line!.split(/\s+/)[2]!;
    const again = await runScript("scripts/events.ts", ["redeliver", webhookId, "--subscriber", "main"], {});
    expect(again.stdout).toContain("1 owed again");
    await deliver();
    expect(main.received.filter((e) => e.id === webhookId)).toHaveLength(2);
    expect((await runScript("scripts/events.ts", ["resend"], {})).code).toBe(2);
  });

  // Last: the worker's start names its own subscribers only, and the others are owed nothing more.
  it("are sent by the worker as soon as their change commits, not at its next poll", async () => {
    const worker = await startEventDelivery([subscriber("main", main.url)], () => {}, { everyMs: 10 * 60_000 });
    try {
      const t = await connectedTenant(pd);
      await waitUntil(() => types(t.tenantId).length === 1, "the connected event, woken by its commit");
      await removeConnection(t.tenantId, "disconnected", t.admin.id, { by: "Admin" });
      await waitUntil(() => types(t.tenantId).length === 2, "the disconnected event");
      expect(types(t.tenantId)).toEqual(["connected", "disconnected"]);
    } finally {
      await worker.stop();
    }
  });
});
