import { afterAll, beforeAll, describe, expect, it } from "vitest";

import {
  CONTROL_HEADER,
  MOCK_COMPANY,
  MOCK_USER,
  startMockPipedrive,
  WORLD_COOKIE,
  WORLD_HEADER,
  type MockPipedrive,
} from "./index.ts";

// Two workers of one test run share the mock; nothing one does in its world may reach the other's.

const REDIRECT = "http://localhost:3999/callback";
let mock: MockPipedrive;
const basic = () => `Basic ${Buffer.from(`${mock.clientId}:${mock.clientSecret}`).toString("base64")}`;

beforeAll(async () => {
  mock = await startMockPipedrive({ redirectUris: [REDIRECT], quiet: true });
});
afterAll(() => mock.close());

const control = (world: number, path: string, body?: unknown) =>
  fetch(`${mock.url}/__mock/${path}`, {
    method: body === undefined ? "GET" : "POST",
    headers: { [WORLD_HEADER]: String(world), [CONTROL_HEADER]: "1" },
    body: body === undefined ? undefined : JSON.stringify(body),
  }).then((r) => r.json());

/** Allow on the consent page, in the browser of this world; returns the code. */
async function allow(world: number | null, who?: string) {
  const form = new URLSearchParams({ decision: "allow", redirect_uri: REDIRECT, ...(who ? { who } : {}) });
  const answer = await fetch(`${mock.url}/oauth/authorize/decision`, {
    method: "POST",
    body: form,
    redirect: "manual",
    headers: world === null ? {} : { Cookie: `other=1; ${WORLD_COOKIE}=${world}` },
  });
  return new URL(answer.headers.get("location")!).searchParams.get("code")!;
}

const exchange = (code: string) =>
  fetch(`${mock.url}/oauth/token`, {
    method: "POST",
    headers: { Authorization: basic(), "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ grant_type: "authorization_code", code, redirect_uri: REDIRECT }),
  });

const me = async (accessToken: string) =>
  (
    await fetch(`${mock.url}/api/v1/users/me`, { headers: { Authorization: `Bearer ${accessToken}` } })
  ).json() as Promise<{
    data: { id: number; name: string; company_id: number; company_name: string };
  }>;

describe("worlds", () => {
  it("a browser in world 2 grants as world 2's Pat, in its own Acme: same names, ids of its own", async () => {
    const page = await (
      await fetch(
        `${mock.url}/oauth/authorize?client_id=${mock.clientId}&redirect_uri=${encodeURIComponent(REDIRECT)}`,
        {
          headers: { Cookie: `${WORLD_COOKIE}=2` },
        },
      )
    ).text();
    expect(page).toContain(`value="${MOCK_USER.id + 200_000}@${MOCK_COMPANY.id + 200_000}"`);
    expect(page).not.toContain(`value="${MOCK_USER.id}@${MOCK_COMPANY.id}"`);

    const tokens = (await (await exchange(await allow(2))).json()) as { access_token: string; refresh_token: string };
    expect(tokens.access_token).toMatch(/^mock_at_.+\.w2$/);
    expect(tokens.refresh_token).toMatch(/^mock_rt_.+\.w2$/);
    const { data } = await me(tokens.access_token);
    expect(data).toMatchObject({ id: MOCK_USER.id + 200_000, name: MOCK_USER.name, company_name: MOCK_COMPANY.name });
    expect(data.company_id).toBe(MOCK_COMPANY.id + 200_000);
  });

  it("a browser without the cookie is in world 0: the mock as it always was", async () => {
    const tokens = (await (await exchange(await allow(null))).json()) as { access_token: string };
    expect(tokens.access_token).toMatch(/^mock_at_[A-Za-z0-9_-]+$/);
    expect((await me(tokens.access_token)).data).toMatchObject({ id: MOCK_USER.id, company_id: MOCK_COMPANY.id });
  });

  it("faults, requests and installs stay in their world", async () => {
    await control(1, "reset", {});
    await control(0, "reset", {});
    await control(1, "faults", { token: { mode: "500" } });
    expect((await exchange(await allow(1))).status).toBe(500);
    expect((await exchange(await allow(0))).status).toBe(200);
    const requests = async (world: number) =>
      ((await control(world, "requests")) as { path: string; status: number }[]).filter(
        (r) => r.path === "/oauth/token",
      );
    expect((await requests(1)).map((r) => r.status)).toEqual([500]);
    expect((await requests(0)).map((r) => r.status)).toEqual([200]);
    const installs = (await control(1, "installs")) as { installs: { companyId: number }[] };
    expect(installs.installs.every((i) => i.companyId === MOCK_COMPANY.id + 100_000)).toBe(true);
  });

  it("a code the world never issued is refused in the world its suffix names", async () => {
    await control(3, "reset", {});
    expect((await exchange("stolen-code.w3")).status).toBe(400);
    expect(((await control(3, "requests")) as { status: number }[]).map((r) => r.status)).toEqual([400]);
  });

  it("a world number out of range is world 0", async () => {
    const code = await allow(99);
    expect(code).not.toMatch(/\.w\d+$/);
  });
});
