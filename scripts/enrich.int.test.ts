import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startMockPipedrive, type MockPipedrive } from "../e2e/mock-pipedrive/server.ts";
import { runScript } from "./support/run-script.ts";
import { connectThroughMock, createTenant, TEST_REDIRECT_URI, testContext } from "./support/fixtures.ts";

let mock: MockPipedrive;
beforeAll(async () => {
  mock = await startMockPipedrive({ redirectUris: [TEST_REDIRECT_URI] });
});
afterAll(() => mock.close());

// Asynchronous on purpose: the mock answering the CLI lives in this process.
const enrich = (...args: string[]) =>
  runScript("scripts/enrich.ts", args, {
    PIPEDRIVE_CLIENT_ID: mock.clientId,
    PIPEDRIVE_CLIENT_SECRET: mock.clientSecret,
    PIPEDRIVE_OAUTH_BASE_URL: mock.url,
    PIPEDRIVE_MOCK_HOST: mock.host,
  });

describe("npm run enrich", () => {
  it("prints the matches as JSON and exits 0", async () => {
    const { tenantId, admin } = await createTenant();
    await connectThroughMock(testContext(mock), mock, admin);
    const result = await enrich("--tenant", tenantId, "--phone", "+55 11 99999-0001");
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual([
      { id: 101, name: "Ana Souza", phones: ["+55 11 99999-0001"], emails: ["ana@acme.example"], organization: { id: 11, name: "Acme Brasil" } },
    ]);
  });

  it("says not connected in one line and exits non-zero", async () => {
    const { tenantId } = await createTenant();
    const result = await enrich("--tenant", tenantId, "--phone", "+55 11 99999-0001");
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr.trim().split("\n")).toEqual(["enrich: not_connected: Pipedrive is not connected for this workspace."]);
  });

  it("refuses bad input before calling Pipedrive, and bad arguments with usage", async () => {
    const { tenantId } = await createTenant();
    expect(await enrich("--tenant", tenantId, "--phone", "letters only")).toMatchObject({ code: 1, stdout: "" });
    expect(await enrich("--tenant", "not-a-uuid", "--phone", "1234")).toMatchObject({ code: 2 });
    expect((await enrich("--phone", "1234")).stderr).toMatch(/^usage:/);
  });
});
