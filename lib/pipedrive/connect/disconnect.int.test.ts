import { describe, expect, it } from "vitest";

import { CONTROL_HEADER, MOCK_COMPANY, MOCK_USER, type Identity } from "../../../testing/mock-pipedrive/index.ts";
import {
  auditEvents,
  auditTrail,
  connectionRow,
  connectThroughMock,
  createTenant,
  mockPipedriveForFile,
  tokenRow,
} from "../../../testing/support/vitest-harness.ts";
import { disconnect, handleUninstall } from "./disconnect.ts";

const pd = mockPipedriveForFile();

const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString("base64")}`;
const CALLBACK = "http://localhost:3000/api/integrations/pipedrive/callback";

/** Pipedrive's uninstall DELETE, as our route receives it. */
function uninstall(
  auth: string | null,
  body: unknown | ReadableStream<Uint8Array>,
  headers: Record<string, string> = {},
) {
  const stream = body instanceof ReadableStream;
  return new Request(CALLBACK, {
    method: "DELETE",
    headers: { "content-type": "application/json", ...(auth === null ? {} : { authorization: auth }), ...headers },
    body: stream ? body : JSON.stringify(body),
    ...(stream ? { duplex: "half" } : {}),
  } as RequestInit);
}

/** A body that counts what is read of it: `size` bytes in 64 KB chunks. */
function countingBody(size: number) {
  const read = { bytes: 0 };
  let left = size;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (left <= 0) return controller.close();
      const chunk = new Uint8Array(Math.min(65_536, left)).fill(32);
      left -= chunk.length;
      read.bytes += chunk.length;
      controller.enqueue(chunk);
    },
  });
  return { stream, read };
}
const notice = (who: Identity = { companyId: MOCK_COMPANY.id, userId: MOCK_USER.id }) => ({
  client_id: pd.mock.clientId,
  company_id: who.companyId,
  user_id: who.userId,
  timestamp: "2026-11-27T10:00:00Z",
});

describe("disconnect", () => {
  it("revokes the refresh token at Pipedrive, then removes the row and metadata", async () => {
    const { tenantId, admin } = await createTenant();
    await connectThroughMock(pd.ctx, pd.mock, admin);
    const row = await tokenRow(tenantId);
    const result = await disconnect(pd.ctx, admin);
    expect(result).toEqual({ removed: true, revoke: "done" });
    expect(
      pd.mock
        .requests()
        .filter((r) => r.path === "/oauth/revoke")
        .map((r) => r.status),
    ).toEqual([200]);
    expect(await tokenRow(tenantId)).toBeNull();
    expect(await connectionRow(tenantId)).toBeNull();
    // The revoked grant is dead at Pipedrive too.
    const me = await fetch(`${pd.mock.url}/api/v1/users/me`, {
      headers: { Authorization: `Bearer ${row?.accessToken}` },
    });
    expect(me.status).toBe(401);
    expect(await auditTrail(tenantId)).toEqual(["connected", "disconnected"]);
  });

  it("still disconnects when the revoke fails, and records the failure", async () => {
    const { tenantId, admin } = await createTenant();
    await connectThroughMock(pd.ctx, pd.mock, admin);
    pd.mock.setFaults({ revoke: { mode: "500" } });
    const result = await disconnect(pd.ctx, admin);
    expect(result).toEqual({ removed: true, revoke: "failed" });
    expect(await tokenRow(tenantId)).toBeNull();
    expect(await auditTrail(tenantId)).toEqual(["connected", "revoke_failed", "disconnected"]);
  });

  it("only touches the admin's own tenant", async () => {
    const a = await createTenant("A");
    const b = await createTenant("B");
    await connectThroughMock(pd.ctx, pd.mock, a.admin);
    await connectThroughMock(pd.ctx, pd.mock, b.admin);
    await disconnect(pd.ctx, a.admin);
    expect(await tokenRow(a.tenantId)).toBeNull();
    expect(await tokenRow(b.tenantId)).not.toBeNull();
  });

  it("says so when nothing was connected, and calls Pipedrive for nothing", async () => {
    const { tenantId, admin } = await createTenant();
    expect(await disconnect(pd.ctx, admin)).toEqual({ removed: false, revoke: "none" });
    expect(pd.mock.requests()).toHaveLength(0);
    expect(await auditEvents(tenantId)).toEqual([]);
  });
});

describe("uninstall notice", () => {
  it("with Pipedrive's client credentials disconnects the tenant connected to that install; repeating is harmless", async () => {
    const { tenantId, admin } = await createTenant();
    const { who } = await connectThroughMock(pd.ctx, pd.mock, admin);
    const auth = basic(pd.mock.clientId, pd.mock.clientSecret);
    expect(await handleUninstall(pd.ctx, uninstall(auth, notice(who)))).toEqual({ status: 200, tenants: 1 });
    expect(await tokenRow(tenantId)).toBeNull();
    expect(await connectionRow(tenantId)).toBeNull();
    expect(await handleUninstall(pd.ctx, uninstall(auth, notice(who)))).toEqual({ status: 200, tenants: 0 });
    expect(await auditTrail(tenantId)).toEqual(["connected", "uninstalled"]);
  });

  it("with wrong or missing auth answers 401 and changes nothing", async () => {
    const { tenantId, admin } = await createTenant();
    await connectThroughMock(pd.ctx, pd.mock, admin);
    for (const auth of [null, basic(pd.mock.clientId, "wrong"), basic("other", pd.mock.clientSecret), "Bearer x", ""]) {
      expect(await handleUninstall(pd.ctx, uninstall(auth, notice()))).toEqual({ status: 401, tenants: 0 });
    }
    expect(await tokenRow(tenantId)).not.toBeNull();
  });

  it("refuses a malformed notice or one for another client", async () => {
    const auth = basic(pd.mock.clientId, pd.mock.clientSecret);
    expect(await handleUninstall(pd.ctx, uninstall(auth, { nope: true }))).toEqual({ status: 400, tenants: 0 });
    expect(await handleUninstall(pd.ctx, uninstall(auth, { ...notice(), client_id: "someone-else" }))).toEqual({
      status: 400,
      tenants: 0,
    });
  });

  it("checks Basic auth before reading any of the body", async () => {
    const huge = countingBody(200 * 1024 * 1024);
    expect(await handleUninstall(pd.ctx, uninstall(basic(pd.mock.clientId, "wrong"), huge.stream))).toEqual({
      status: 401,
      tenants: 0,
    });
    expect(huge.read.bytes).toBeLessThanOrEqual(65_536);
  });

  it("refuses a body over 4 KB with 413, whether or not it says its length, reading no more than that", async () => {
    const auth = basic(pd.mock.clientId, pd.mock.clientSecret);
    const declared = countingBody(10 * 1024 * 1024);
    expect(
      await handleUninstall(pd.ctx, uninstall(auth, declared.stream, { "content-length": String(10 * 1024 * 1024) })),
    ).toEqual({ status: 413, tenants: 0 });
    expect(declared.read.bytes).toBeLessThanOrEqual(65_536);
    const undeclared = countingBody(10 * 1024 * 1024);
    expect(await handleUninstall(pd.ctx, uninstall(auth, undeclared.stream))).toEqual({ status: 413, tenants: 0 });
    expect(undeclared.read.bytes).toBeLessThanOrEqual(2 * 65_536);
  });

  it("reads company_id strictly as a decimal integer", async () => {
    const { tenantId, admin } = await createTenant();
    await connectThroughMock(pd.ctx, pd.mock, admin);
    const auth = basic(pd.mock.clientId, pd.mock.clientSecret);
    for (const companyId of ["0x1B59", "7001.0", " 7001", "7e3", 7001.5, -7001, "", null]) {
      expect(
        await handleUninstall(pd.ctx, uninstall(auth, { ...notice(), company_id: companyId })),
        String(companyId),
      ).toEqual({ status: 400, tenants: 0 });
    }
    expect(await tokenRow(tenantId)).not.toBeNull();
    expect(
      await handleUninstall(pd.ctx, uninstall(auth, { ...notice(), company_id: String(MOCK_COMPANY.id) })),
    ).toMatchObject({ status: 200 });
  });

  it("arrives over HTTP from the pd.mock like Pipedrive sends it", async () => {
    // The mock's uninstall sender is what QA uses; check it speaks the same format.
    const received: { auth: string | null; body: unknown }[] = [];
    const http = await import("node:http");
    const server = http.createServer((req, res) => {
      let body = "";
      req.on("data", (c: Buffer) => (body += c));
      req.on("end", () => {
        received.push({ auth: req.headers.authorization ?? null, body: JSON.parse(body) });
        res.end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as { port: number }).port;
    await fetch(`${pd.mock.url}/__mock/uninstall`, {
      method: "POST",
      headers: { [CONTROL_HEADER]: "1" },
      body: JSON.stringify({ callbackUrl: `http://127.0.0.1:${port}/cb` }),
    });
    server.close();
    expect(received).toHaveLength(1);
    expect(received[0]?.auth).toBe(basic(pd.mock.clientId, pd.mock.clientSecret));
    expect(received[0]?.body).toMatchObject({ client_id: pd.mock.clientId, company_id: MOCK_COMPANY.id });
  });
});
