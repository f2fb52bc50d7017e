import { E2E_METRICS_TOKEN } from "../testing/support/e2e-app.ts";
import { keeperRunNow, testDb } from "./support/db.ts";
import { DEMO_TENANT_ID, USERS } from "./support/env.ts";
import { expect, test } from "./support/fixtures.ts";
import { receivedMails } from "./support/mail.ts";
import { mock } from "./support/mock.ts";

// A forced invalid_grant on the demo workspace, as everyone who depends on the connection sees
// it: the admin's page, the status view other services read, the operators' metrics, and one
// mail to the workspace's admins (sent by the keeper through a real SMTP server).

const mails = receivedMails;

test("a broken connection is seen by the view, the metrics and the admins' mail", async ({ signedIn, request }) => {
  test.setTimeout(60_000);
  const { integrations } = await signedIn("admin");
  await integrations.connect();
  const subject = "Pipedrive stopped working for Demo Workspace: reconnect it";
  const before = mails().filter((m) => m.subject === subject).length;

  await testDb.expireAccessToken(DEMO_TENANT_ID);
  await mock.faults({ token: { mode: "invalid_grant", grant: "refresh_token" } });
  await integrations.lookup("+55 11 99999-0001");
  await integrations.expectStatus("Needs reconnect");
  // A second failure in the same incident.
  await integrations.lookup("+55 11 99999-0001");

  const view = await testDb.query<{ status: string; reason: string }>(
    "SELECT status, reason FROM lead_pipedrive_integration_status WHERE tenant_id = $1",
    [DEMO_TENANT_ID],
  );
  expect(view).toEqual([{ status: "needs_reconnect", reason: expect.stringContaining("must reconnect") }]);

  expect((await request.get("/api/metrics")).status()).toBe(401);
  const metrics = await request.get("/api/metrics", { headers: { Authorization: `Bearer ${E2E_METRICS_TOKEN}` } });
  expect(metrics.status()).toBe(200);
  expect(await metrics.text()).toContain('pipedrive_connections{status="needs_reconnect"} 1');

  // The keeper delivers on its minute's schedule; asked now, it delivers at its next poll.
  await keeperRunNow("pipedrive-notify");
  await expect.poll(() => mails().filter((m) => m.subject === subject).length, { timeout: 30_000 }).toBe(before + 1);
  const mail = mails()
    .filter((m) => m.subject === subject)
    .at(-1)!;
  const admins = await testDb.query<{ email: string }>(
    "SELECT email FROM users WHERE tenant_id = $1 AND role = 'admin' AND pipedrive_mail ORDER BY email",
    [DEMO_TENANT_ID],
  );
  expect(mail.to).toContain(USERS.admin.email);
  expect([...mail.to].sort()).toEqual(admins.map((a) => a.email));
  expect(mail.text).toContain("/settings/integrations");
  const owed = await testDb.query<{ event: string; outcome: string | null }>(
    "SELECT event, outcome FROM pipedrive_notifications WHERE tenant_id = $1 AND created_at > now() - interval '5 minutes'",
    [DEMO_TENANT_ID],
  );
  expect(owed.filter((n) => n.event === "refresh_failed")).toEqual([{ event: "refresh_failed", outcome: "sent" }]);
});
