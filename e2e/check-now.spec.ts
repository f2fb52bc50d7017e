import { testDb } from "./support/db.ts";
import { APP_URL, DEMO_TENANT_ID } from "./support/env.ts";
import { expect, test } from "./support/fixtures.ts";
import { mock } from "./support/mock.ts";

// Check now calls Pipedrive for the workspace: only its admins may press it, only from this site,
// and at most once a minute (the words and the happy path: lookup-waits-and-words.spec.ts).

const CHECK = `${APP_URL}/api/integrations/pipedrive/check`;
const calls = async () => (await mock.requests()).filter((r) => r.path.startsWith("/api/")).length;

test("Check now is for the workspace's admins, from this site only, and calls Pipedrive for none else", async ({
  signedIn,
  request,
}) => {
  const { integrations } = await signedIn("admin");
  await integrations.connect();
  await mock.faults({ api403: { only: "search" } });
  await integrations.lookup("+55 11 99999-0001");
  const before = await calls();

  const anonymous = await request.post(CHECK, { headers: { Origin: APP_URL }, form: {}, maxRedirects: 0 });
  expect(anonymous.status()).toBe(303);
  expect(anonymous.headers().location).toContain("/sign-in");
  const member = await signedIn("member");
  const asMember = await member.page.request.post(CHECK, { headers: { Origin: APP_URL }, form: {}, maxRedirects: 0 });
  expect(asMember.headers().location).toContain("reason=forbidden");
  const crossSite = await integrations.page.request.post(CHECK, {
    headers: { Origin: "https://evil.example" },
    form: {},
    maxRedirects: 0,
  });
  expect(crossSite.status()).toBe(403);
  expect(await calls()).toBe(before);
  expect(await testDb.query(`SELECT 1 FROM rate_limits WHERE key = $1`, [`check-now:${DEMO_TENANT_ID}`])).toHaveLength(
    0,
  );
});
