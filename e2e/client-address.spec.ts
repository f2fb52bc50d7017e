import { testDb } from "./support/db.ts";
import { APP_URL } from "./support/env.ts";
import { expect, test } from "./support/fixtures.ts";
import { startInstance, type Instance } from "./support/instance.ts";
import { postSignIn } from "./support/sign-in-form.ts";

// Sign-in limits count per client address. Which address that is comes from TRUSTED_PROXIES:
// the e2e server trusts one proxy (the specs play it); a second instance here runs the default.

async function wrongSignIn(baseUrl: string, email: string, forwardedFor: string) {
  return (await postSignIn(email, "wrong", forwardedFor, { baseUrl })).status;
}

const counted = async (keyPrefix: string) => {
  const rows = await testDb.query<{ key: string; points: number }>(
    "SELECT key, points FROM rate_limits WHERE key LIKE $1 ORDER BY key",
    [`${keyPrefix}:%`],
  );
  return rows.map((row) => [row.key.slice(keyPrefix.length + 1), row.points]);
};

test("behind one trusted proxy, only the entry it appended counts; what the client wrote before it does not", async () => {
  await testDb.query("DELETE FROM rate_limits WHERE key LIKE 'signin-ip:%'");
  for (let i = 0; i < 4; i++) {
    expect(await wrongSignIn(APP_URL, `nobody${i}@client-address.test`, `203.0.113.${i}, 198.51.100.90`)).toBe(303);
  }
  expect(await counted("signin-ip")).toEqual([["198.51.100.90", 4]]);
});

test("an IPv6 client counts by its /64", async () => {
  await testDb.query("DELETE FROM rate_limits WHERE key LIKE 'signin-ip:%'");
  for (const host of ["2001:db8:7:7::1", "2001:db8:7:7:ffff::2"]) {
    expect(await wrongSignIn(APP_URL, "nobody@client-address.test", host)).toBe(303);
  }
  expect(await counted("signin-ip")).toEqual([["2001:db8:7:7::/64", 2]]);
});

test.describe("with no trusted proxy (the default)", () => {
  let instance: Instance;
  let baseUrl = "";
  const output = () => instance.output();

  test.beforeAll(async () => {
    test.setTimeout(120_000);
    instance = await startInstance(3190, { unset: ["TRUSTED_PROXIES"] });
    baseUrl = instance.url;
  });

  test.afterAll(() => instance.stop());

  test("the socket's address counts, whatever X-Forwarded-For says", async () => {
    await testDb.query("DELETE FROM rate_limits WHERE key LIKE 'signin-ip:%'");
    for (let i = 0; i < 4; i++) {
      expect(await wrongSignIn(baseUrl, `nobody${i}@client-address.test`, `198.51.100.${100 + i}`)).toBe(303);
    }
    expect(await counted("signin-ip")).toEqual([["127.0.0.1", 4]]);
  });

  test("warns once, at the first request that carries X-Forwarded-For, that the header is ignored", async () => {
    const warning = /X-Forwarded-For arrived but TRUSTED_PROXIES is 0/g;
    for (let i = 0; i < 3; i++)
      expect(await wrongSignIn(baseUrl, "nobody@client-address.test", "198.51.100.7")).toBe(303);
    await expect.poll(() => output().match(warning)?.length ?? 0).toBe(1);
    expect(await wrongSignIn(baseUrl, "nobody@client-address.test", "198.51.100.8")).toBe(303);
    expect(output().match(warning)?.length).toBe(1);
  });

  test("takes no request id from the client: with no proxy in front, nobody vouches for it", async () => {
    const chosen = "attacker-chosen-request-id";
    for (const path of ["/sign-in", "/api/health"]) {
      const answer = await fetch(`${baseUrl}${path}`, { headers: { "X-Request-Id": chosen } });
      await answer.arrayBuffer();
      expect(answer.status).toBe(200);
      expect(answer.headers.get("x-request-id") ?? "").not.toBe(chosen);
    }
    // A request that logs: the client's id never reaches a log line.
    await wrongSignIn(baseUrl, "nobody@client-address.test", "198.51.100.9");
    await fetch(`${baseUrl}/api/integrations/pipedrive/callback?code=x`, {
      redirect: "manual",
      headers: { "X-Request-Id": chosen },
    }).then((a) => a.arrayBuffer());
    await expect.poll(() => output().includes("pipedrive callback")).toBe(true);
    expect(output()).not.toContain(chosen);
  });

  test("serves no metrics without METRICS_TOKEN: this instance is not a demo, though it talks to the mock", async () => {
    const answer = await fetch(`${baseUrl}/api/metrics`);
    expect(answer.status).toBe(403);
    expect(await answer.text()).not.toContain("pipedrive_");
  });
});
