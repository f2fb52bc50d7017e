import { writeFileSync } from "node:fs";
import path from "node:path";

import { ROOT } from "../../scripts/support/local-env.ts";
import { inProcess, loadPath, type Stats } from "../support/measure.ts";
import type { Report } from "../support/report.ts";
import type { Stack } from "../support/stack.ts";

// Scenario D: what many connected workspaces cost. The view the lead-enrichment service reads,
// the token hot path and the settings page, each measured with the stack's own workspaces, and
// again once `large` more are connected beside them (with their users, contract rows and some
// history), on the same server; and the database connections two instances and two workers hold.

const median = (rounds: Stats[]) => [...rounds].sort((a, b) => a.p50 - b.p50)[1]!;

export async function scale(stack: Stack, report: Report, large: number, pageSeconds: number) {
  const { getValidAccessToken } = await import("../../lib/pipedrive/tokens/access.ts");
  const { pipedrive } = await import("../../lib/pipedrive/context.ts");
  const ctx = pipedrive();
  const tenant = stack.floorTenant;
  const cookie = await stack.sessionCookie(tenant);
  const count = async () =>
    (await stack.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM pipedrive_connections`)).rows[0]!.n;

  const measure = async () => {
    const rounds = { view: [] as Stats[], token: [] as Stats[], page: [] as Stats[] };
    for (let round = 0; round < 3; round++) {
      rounds.view.push(
        await inProcess(500, 1, () =>
          stack.pool.query({
            name: "bench-scale-view",
            text: `SELECT * FROM lead_pipedrive_integration_status WHERE tenant_id = $1`,
            values: [tenant.tenantId],
          }),
        ),
      );
      rounds.token.push(await inProcess(1000, 1, () => getValidAccessToken(ctx, tenant.tenantId)));
      rounds.page.push(await loadPath(stack.appUrl, "/settings/integrations", { cookie }, 10, pageSeconds));
    }
    return { view: median(rounds.view), token: median(rounds.token), page: median(rounds.page) };
  };

  const smallCount = await count();
  report.progress(`scale: the view, the token path and the page at ${smallCount} connected workspaces`);
  // A first pass, not kept: measured cold, the smallest size read slower than the largest.
  await measure();
  const small = await measure();
  // Connected in three steps (a hundredth, a tenth, all of `large`), measured after each: a curve.
  const points = [{ workspaces: smallCount, ...small }];
  let added = 0;
  for (const step of [Math.round(large / 100), Math.round(large / 10), large]) {
    report.progress(`scale: connecting ${(step - added).toLocaleString("en")} more workspaces, then measuring again`);
    await connectMore(stack, step - added, added);
    added = step;
    points.push({ workspaces: await count(), ...(await measure()) });
  }
  const { workspaces: largeCount, ...big } = points.at(-1)!;

  await outboxDrain(stack, report, Math.min(10_000, large));

  // What the stack's processes hold now, with two workers beside its two instances.
  const workers = await stack.startWorkers(2);
  let held = 0;
  let max = 0;
  try {
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    held = (
      await stack.pool.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`,
      )
    ).rows[0]!.n;
    max = Number(
      (await stack.pool.query<{ max_connections: string }>(`SHOW max_connections`)).rows[0]!.max_connections,
    );
  } finally {
    await workers.stop();
  }

  const at = (n: number) => n.toLocaleString("en");
  const scenario = `D. scale, ${at(largeCount)} ÷ ${at(smallCount)} workspaces`;
  report.row(scenario, "view read by tenant_id, p50", big.view.p50, small.view.p50, "ms", {
    text: "≤ 1.5×",
    met: big.view.p50 <= 1.5 * small.view.p50,
  });
  report.row(scenario, "token hot path, p50", big.token.p50, small.token.p50, "ms", {
    text: "≤ 1.5×",
    met: big.token.p50 <= 1.5 * small.token.p50,
  });
  report.row(scenario, "settings page c=10, p50", big.page.p50, small.page.p50, "ms", {
    text: "≤ 1.2×",
    met: big.page.p50 <= 1.2 * small.page.p50,
  });
  report.plain(
    "D. scale",
    "connections held (2 instances + 2 workers + the bench)",
    String(held),
    `max_connections ${max}`,
    "< max_connections",
    held < max,
  );
  report.details.scale = { smallCount, largeCount, points, connectionsHeld: held, maxConnections: max };
  const file = path.join(ROOT, "bench", "results", "scale.svg");
  writeFileSync(
    file,
    plot(
      points.map((p) => p.workspaces),
      [
        { name: "view read", p50: points.map((p) => p.view.p50) },
        { name: "token hot path", p50: points.map((p) => p.token.p50) },
        { name: "settings page (c=10)", p50: points.map((p) => p.page.p50) },
      ],
    ),
  );
  report.progress(`scale plot: ${path.relative(ROOT, file)}`);
}

/** `n` more connected workspaces (users, contract rows, some history), numbered on from `from`. */
async function connectMore(stack: Stack, n: number, from: number) {
  await stack.pool.query(
    `WITH t AS (
       INSERT INTO tenants (id, name) SELECT gen_random_uuid(), 'Scale ' || ($2 + n) FROM generate_series(1, $1) n RETURNING id, name),
     u AS (
       INSERT INTO users (id, tenant_id, email, password_hash, role, name)
       SELECT gen_random_uuid(), id, 'admin-' || id || '@scale.test', 'not-used', 'admin', 'Admin of ' || name FROM t RETURNING tenant_id),
     l AS (
       INSERT INTO lead_pipedrive_integrations (tenant_id, access_token, refresh_token, expires_at, api_domain)
       SELECT tenant_id, md5(random()::text), md5(random()::text), now() + interval '50 minutes', 'scale.pipedrive.com' FROM u
       RETURNING tenant_id),
     c AS (
       INSERT INTO pipedrive_connections (tenant_id, status, company_id, company_name, company_domain, pipedrive_user_id,
         pipedrive_user_name, scopes, connected_by_name, connected_at, next_refresh_at)
       SELECT tenant_id, 'connected', 900000 + $2 + (row_number() OVER ()), 'Scale Company', 'scale', 1, 'Scale user',
         '{base,contacts:read}', 'bench', now(), now() + (random() * 2700) * interval '1 second' FROM l
       RETURNING tenant_id)
     -- Some history for each: a connect and two renewals in the log.
     INSERT INTO pipedrive_audit_events (tenant_id, event, detail)
     SELECT c.tenant_id, e.event, '{}'::jsonb FROM c CROSS JOIN (VALUES ('connected'), ('recovered'), ('reconnected')) AS e(event)`,
    [n, from],
  );
  await stack.pool.query(`ANALYZE`);
}

/**
 * The admins' mail outbox with `count` incidents owed at once (one per workspace), drained by the
 * keeper's delivery over real SMTP, beside the same number of bare nodemailer sends to the same
 * server at the same concurrency: what the outbox's row lock, recipients' read and bookkeeping
 * cost per mail.
 */
async function outboxDrain(stack: Stack, report: Report, count: number) {
  const { startSmtpServer } = await import("../../testing/support/smtp.ts");
  const { deliverDue } = await import("../../lib/notifications/deliver.ts");
  const nodemailer = (await import("nodemailer")).default;
  const smtp = await startSmtpServer();
  try {
    report.progress(
      `outbox: ${count.toLocaleString("en")} incidents owed at once, drained over SMTP, then as many bare sends`,
    );
    await stack.pool.query(
      `INSERT INTO pipedrive_notifications (tenant_id, event, detail)
       SELECT tenant_id, 'refresh_failed', '{}'::jsonb FROM pipedrive_connections WHERE company_name = 'Scale Company' LIMIT $1`,
      [count],
    );
    const started = performance.now();
    let drained = 0;
    while (drained < count) {
      const handled = await deliverDue(new Date(), { smtpUrl: smtp.url, limit: 1000 });
      if (handled === 0) break;
      drained += handled;
    }
    const ours = (performance.now() - started) / 1000;
    // The same sends, bare: one pooled transport, four at a time, as the outbox sends.
    const transport = nodemailer.createTransport({ url: smtp.url, pool: true, maxConnections: 4 });
    const bareStarted = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        while (next++ < drained)
          await transport.sendMail({ from: "bench@localhost", to: "admin@scale.test", subject: "s", text: "t" });
      }),
    );
    const bare = (performance.now() - bareStarted) / 1000;
    transport.close();
    report.details.outbox = { count, drained, seconds: ours, bareSeconds: bare, mailsReceived: smtp.received.length };
    report.row(`D. outbox, ${count.toLocaleString("en")} incidents`, "drain time (÷ bare sends)", ours, bare, "s");
    report.plain("D. outbox", "mails sent", String(drained), String(count), `all ${count}`, drained === count);
  } finally {
    await smtp.close();
  }
}

/** Each measure's p50 at every size, as its growth over the smallest (1 = flat), on a log scale of workspaces. */
function plot(sizes: number[], series: { name: string; p50: number[] }[]): string {
  const w = 640;
  const h = 360;
  const pad = 60;
  const [small, large] = [sizes[0]!, sizes.at(-1)!];
  const ratios = series.map((s) => s.p50.map((v) => v / s.p50[0]!));
  const maxRatio = Math.max(2, ...ratios.flat());
  const x = (n: number) =>
    pad + ((Math.log10(n) - Math.log10(small)) / (Math.log10(large) - Math.log10(small))) * (w - 2 * pad);
  const y = (ratio: number) => h - pad - (ratio / maxRatio) * (h - 2 * pad);
  const colours = ["#1f6feb", "#d97706", "#16a34a"];
  const lines = series
    .map((s, i) => {
      const r = ratios[i]!;
      const path = sizes.map((n, k) => `${x(n).toFixed(1)},${y(r[k]!).toFixed(1)}`).join(" ");
      const dots = sizes
        .map((n, k) => `<circle cx="${x(n).toFixed(1)}" cy="${y(r[k]!).toFixed(1)}" r="4" fill="${colours[i]}"/>`)
        .join("");
      return (
        `<polyline points="${path}" fill="none" stroke="${colours[i]}" stroke-width="3"/>${dots}` +
        `<text x="${x(large) - 4}" y="${y(r.at(-1)!) - 8 - i * 14}" text-anchor="end" fill="${colours[i]}" font-size="13">${s.name}: ${r.at(-1)!.toFixed(2)}× (${s.p50[0]!.toFixed(1)} → ${s.p50.at(-1)!.toFixed(1)} ms)</text>`
      );
    })
    .join("");
  const ticks = sizes
    .map(
      (n) =>
        `<text x="${x(n)}" y="${h - pad + 18}" text-anchor="middle" font-size="12">${n.toLocaleString("en")}</text>`,
    )
    .join("");
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" font-family="sans-serif">` +
    `<rect width="100%" height="100%" fill="white"/>` +
    `<text x="${pad}" y="28" font-size="15">p50 at each size ÷ at ${small.toLocaleString("en")} workspaces (1 = no growth)</text>` +
    `<line x1="${pad}" y1="${h - pad}" x2="${w - pad}" y2="${h - pad}" stroke="#888"/>` +
    `<line x1="${pad}" y1="${pad}" x2="${pad}" y2="${h - pad}" stroke="#888"/>` +
    `<line x1="${pad}" y1="${y(1)}" x2="${w - pad}" y2="${y(1)}" stroke="#ccc" stroke-dasharray="4"/>` +
    `<text x="${pad - 8}" y="${y(1) + 4}" text-anchor="end" font-size="12">1×</text>` +
    `<text x="${pad - 8}" y="${y(maxRatio) + 4}" text-anchor="end" font-size="12">${maxRatio.toFixed(1)}×</text>` +
    ticks +
    `<text x="${w / 2}" y="${h - 14}" text-anchor="middle" font-size="12">connected workspaces (log scale)</text>` +
    lines +
    `</svg>\n`
  );
}
