import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { freshIdentity } from "../../testing/mock-pipedrive/index.ts";
import { ownDatabaseForFile } from "../../testing/support/scratch-databases.ts";
import { startSmtpServer } from "../../testing/support/smtp.ts";
import {
  answerSwitch,
  auditTrail,
  connectedTenant,
  connectionRow,
  connectThroughMock,
  expireAccessToken,
  foreignRefresherForFile,
  mockPipedriveForFile,
} from "../../testing/support/vitest-harness.ts";
import { db, sql } from "../db.ts";
import { disconnect } from "../pipedrive/connect/disconnect.ts";
import { removeConnection } from "../pipedrive/connection/grant-store.ts";
import { searchPersonsByPhone } from "../pipedrive/lookup/person-search.ts";
import { getValidAccessToken } from "../pipedrive/tokens/access.ts";
import { deliverDue, retryDelayMs } from "./deliver.ts";

// Mail to a workspace's admins, through a real SMTP server: who gets it, what it says, and
// exactly once per incident, however many lookups fail during it.

// A delivery takes every workspace's due mail, oldest first: on the run's shared database it would
// send other files' mail, and theirs could come before this file's.
const databaseUrl = await ownDatabaseForFile("crm_notifications");
const pd = mockPipedriveForFile();
const foreign = foreignRefresherForFile(pd, () => databaseUrl);
let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
beforeAll(async () => {
  smtp = await startSmtpServer();
});
afterAll(() => smtp.close());

/** A connected workspace with two admins (one who turned mail off) and a member. */
async function workspace() {
  const t = await connectedTenant(pd);
  const quiet = await t.addUser("admin");
  await db().user.update({ where: { id: quiet.id }, data: { pipedriveMail: false } });
  return { ...t, quiet };
}

const connectionRowBefore = new Map<string, string>();
const deliver = (now = new Date()) => deliverDue(now, { smtpUrl: smtp.url });
const mailTo = (email: string) => smtp.received.filter((m) => m.to.includes(email));

async function breakGrant(tenantId: string, times?: number) {
  await expireAccessToken(tenantId);
  pd.mock.setFaults({ token: { mode: "invalid_grant", grant: "refresh_token", times } });
  await getValidAccessToken(pd.ctx, tenantId).catch(() => null);
}

describe("mail to a workspace's admins", () => {
  it("is sent once, and logged once, when the company's daily Pipedrive limit pauses lookups", async () => {
    const t = await workspace();
    pd.mock.configure({ profile: "strict", dailyBudget: 0 });
    try {
      // The 429 that starts the pause, then lookups that the pause stops before they call.
      for (let i = 0; i < 3; i++) {
        const failure = await searchPersonsByPhone(pd.ctx, t.tenantId, "+55 11 99999-0001").catch((e: unknown) => e);
        expect(failure).toMatchObject({ code: "rate_limited" });
      }
      expect((await auditTrail(t.tenantId)).filter((event) => event === "paused")).toHaveLength(1);
      await deliver();
      const paused = mailTo(t.admin.email).filter((m) => m.subject.includes("lookups are paused"));
      expect(paused).toHaveLength(1);
      expect(paused[0]!.subject).toMatch(/^Pipedrive lookups are paused for .+ until \d{2}:\d{2} UTC( on .+)?$/);
      expect(paused[0]!.text).toContain("request limit");
      expect(paused[0]!.text).toContain("API usage page");
      expect(mailTo(t.quiet.email).filter((m) => m.subject.includes("lookups are paused"))).toHaveLength(0);
    } finally {
      pd.mock.reset();
      await sql().query(`DELETE FROM pipedrive_rate_limits`);
    }
  });

  it("is sent once when a connection starts needing a reconnect, and once when it recovers", async () => {
    const t = await workspace();
    await breakGrant(t.tenantId, 1);
    expect((await connectionRow(t.tenantId))?.status).toBe("needs_reconnect");
    // More failures in the same incident: no more mail.
    await getValidAccessToken(pd.ctx, t.tenantId).catch(() => null);
    await getValidAccessToken(pd.ctx, t.tenantId).catch(() => null);
    await deliver();
    await deliver();
    const broken = mailTo(t.admin.email);
    expect(broken).toHaveLength(1);
    expect(broken[0]!.to).toEqual([t.admin.email]);
    expect(broken[0]!.subject).toBe("Pipedrive stopped working for Test Workspace: reconnect it");
    expect(broken[0]!.text).toContain("press Reconnect");
    expect(broken[0]!.text).toContain("http://localhost:3000/settings/integrations");
    expect(mailTo(t.quiet.email)).toHaveLength(0);
    expect(mailTo(t.member.email)).toHaveLength(0);

    // The other service's writer moves the grant on; the next lookup heals the connection.
    await foreign.getToken(t.tenantId);
    await getValidAccessToken(pd.ctx, t.tenantId);
    expect((await connectionRow(t.tenantId))?.status).toBe("connected");
    await deliver();
    expect(mailTo(t.admin.email).map((m) => m.subject)).toEqual([
      "Pipedrive stopped working for Test Workspace: reconnect it",
      "Pipedrive works again for Test Workspace",
    ]);
  });

  it("is retried when the SMTP server refuses it, and then sent once", async () => {
    const t = await workspace();
    smtp.refuse(true);
    try {
      await breakGrant(t.tenantId);
      await deliver();
    } finally {
      smtp.refuse(false);
    }
    expect(mailTo(t.admin.email)).toHaveLength(0);
    const pending = await db().pipedriveNotification.findFirst({ where: { tenantId: t.tenantId } });
    expect(pending).toMatchObject({ attempts: 1, doneAt: null, lastError: expect.stringContaining("451") });
    // Not before its retry time; then once.
    await deliver();
    expect(mailTo(t.admin.email)).toHaveLength(0);
    await deliver(new Date(Date.now() + retryDelayMs(1) + 1_000));
    await deliver(new Date(Date.now() + retryDelayMs(2) + 1_000));
    expect(mailTo(t.admin.email)).toHaveLength(1);
    expect((await connectionRow(t.tenantId))?.status).toBe("needs_reconnect");
  });

  it("is sent once when two keepers deliver at the same moment", async () => {
    const t = await workspace();
    await breakGrant(t.tenantId);
    await Promise.all([deliver(), deliver(), deliver()]);
    expect(mailTo(t.admin.email)).toHaveLength(1);
  });

  it("says so when the app was uninstalled from Pipedrive", async () => {
    const t = await workspace();
    connectionRowBefore.set(t.tenantId, (await connectionRow(t.tenantId))!.pipedriveUserName);
    await removeConnection(t.tenantId, "uninstalled", null, { companyId: 1, pipedriveUserId: 2 });
    await deliver();
    const mails = mailTo(t.admin.email);
    expect(mails.map((m) => m.subject)).toEqual(["The CRM was uninstalled from Pipedrive for Test Workspace"]);
    // Whose Pipedrive account it was, as the page says; never "someone".
    const connectedAs = (await connectionRowBefore.get(t.tenantId))!;
    expect(mails[0]!.text).toContain(`${connectedAs}'s Pipedrive account`);
    expect(mails[0]!.text).not.toContain("someone");
  });

  it("names the Pipedrive user and what Pipedrive refused, for a 403", async () => {
    const t = await workspace();
    const user = (await connectionRow(t.tenantId))!.pipedriveUserName;
    pd.mock.setFaults({ api403: { only: "search" } });
    await searchPersonsByPhone(pd.ctx, t.tenantId, "+55 11 99999-0001").catch(() => null);
    pd.mock.setFaults({});
    await deliver();
    const [mail] = mailTo(t.admin.email);
    expect(mail!.text).toContain(user);
    expect(mail!.text).toContain("search people");
    expect(mail!.text).toContain("limit");
  });

  it("is due from the moment it is owed, though the database keeps microseconds and a Date milliseconds", async () => {
    const t = await workspace();
    await removeConnection(t.tenantId, "uninstalled", null, {});
    // Owed half a millisecond into the millisecond a keeper's clock then reads.
    const { rows } = await sql().query<{ ms: string }>(
      `UPDATE pipedrive_notifications
       SET next_attempt_at = date_trunc('milliseconds', next_attempt_at) + interval '500 microseconds'
       WHERE tenant_id = $1 RETURNING floor(extract(epoch FROM next_attempt_at) * 1000)::bigint::text AS ms`,
      [t.tenantId],
    );
    await deliver(new Date(Number(rows[0]!.ms)));
    expect(mailTo(t.admin.email)).toHaveLength(1);
  });

  it("goes out oldest first, also once the ids gain a digit", async () => {
    const t = await workspace();
    const { rows } = await sql().query<{ max: string }>(
      `SELECT coalesce(max(id), 0)::text AS max FROM pipedrive_notifications`,
    );
    const power = 10 ** String(Number(rows[0]!.max) + 2).length;
    await sql().query(`SELECT setval(pg_get_serial_sequence('pipedrive_notifications', 'id'), $1)`, [power - 2]);
    await sql().query(`INSERT INTO pipedrive_notifications (tenant_id, event) VALUES ($1, 'refresh_failed')`, [
      t.tenantId,
    ]);
    await sql().query(`INSERT INTO pipedrive_notifications (tenant_id, event) VALUES ($1, 'recovered')`, [t.tenantId]);
    await deliver();
    expect(mailTo(t.admin.email).map((m) => m.subject)).toEqual([
      "Pipedrive stopped working for Test Workspace: reconnect it",
      "Pipedrive works again for Test Workspace",
    ]);
  });

  it("is owed for nothing else: a connect", async () => {
    const t = await workspace();
    const { rows } = await sql().query(`SELECT 1 FROM pipedrive_notifications WHERE tenant_id = $1`, [t.tenantId]);
    expect(rows).toHaveLength(0);
  });

  it("gives its times in UTC and in each recipient admin's zone, as their page last showed it", async () => {
    const t = await workspace();
    const tokyo = await t.addUser("admin");
    await sql().query(`UPDATE users SET time_zone = 'America/Sao_Paulo' WHERE id = $1`, [t.admin.id]);
    await sql().query(`UPDATE users SET time_zone = 'Asia/Tokyo' WHERE id = $1`, [tokyo.id]);
    await disconnect(pd.ctx, t.admin);
    await deliver();
    const [mail] = mailTo(t.admin.email);
    // "At 2026-12-06 12:32 UTC (09:32 GMT-3 · 21:32 GMT+9), …": the zones of the admins it goes to.
    expect(mail!.text).toMatch(
      /At \d{4}-\d\d-\d\d \d\d:\d\d UTC \((\d{1,2} \w{3}, )?\d\d:\d\d GMT-3 · (\d{1,2} \w{3}, )?\d\d:\d\d GMT\+9\)/,
    );
    expect(mailTo(tokyo.email)).toHaveLength(1);
  });

  it("says who disconnected Pipedrive, and whose account it was", async () => {
    const t = await workspace();
    const user = (await connectionRow(t.tenantId))!.pipedriveUserName;
    await disconnect(pd.ctx, t.admin);
    await deliver();
    const mails = mailTo(t.admin.email);
    expect(mails.map((m) => m.subject)).toEqual(["Pipedrive was disconnected from Test Workspace"]);
    expect(mails[0]!.text).toContain(`${t.admin.name} disconnected Pipedrive (${user}'s account`);
    expect(mailTo(t.quiet.email)).toEqual([]);
  });

  it("names both Pipedrive users when a workspace switches from one to the other", async () => {
    const t = await workspace();
    const from = (await connectionRow(t.tenantId))!.pipedriveUserName;
    const held = await connectThroughMock(pd.ctx, pd.mock, t.admin, { who: freshIdentity() });
    expect(held.outcome).toEqual({ result: "confirm_switch" });
    await answerSwitch(pd.ctx, t.admin, held);
    const to = (await connectionRow(t.tenantId))!.pipedriveUserName;
    await deliver();
    const mails = mailTo(t.admin.email);
    expect(mails.map((m) => m.subject)).toEqual(["Test Workspace now uses another Pipedrive user"]);
    expect(mails[0]!.text).toContain(`switched from ${from} to ${to} by ${t.admin.name}`);
  });

  it("says Pipedrive works again when a Reconnect fixes a connection that had stopped working", async () => {
    const t = await workspace();
    await breakGrant(t.tenantId);
    pd.mock.setFaults({});
    expect((await connectThroughMock(pd.ctx, pd.mock, t.admin, { who: t.who })).outcome).toEqual({
      result: "reconnected",
    });
    await deliver();
    expect(mailTo(t.admin.email).map((m) => m.subject)).toEqual([
      "Pipedrive stopped working for Test Workspace: reconnect it",
      "Pipedrive works again for Test Workspace",
    ]);
  });
});
