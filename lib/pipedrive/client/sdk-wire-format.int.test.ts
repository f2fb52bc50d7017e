import { v1, v2 } from "pipedrive";
import { describe, expect, it } from "vitest";

import { MOCK_COMPANY, MOCK_USER } from "../../../testing/mock-pipedrive/index.ts";
import { mockPipedriveForFile, TEST_REDIRECT_URI } from "../../../testing/support/vitest-harness.ts";

const PAT = { userId: MOCK_USER.id, companyId: MOCK_COMPANY.id };

// Pipedrive's official Node SDK, generated from its OpenAPI descriptions, pointed at the mock:
// if the SDK reads every answer, the mock speaks Pipedrive's wire format.

const pd = mockPipedriveForFile();

function sdkOAuth() {
  return new v2.OAuth2Configuration({
    clientId: pd.mock.clientId,
    clientSecret: pd.mock.clientSecret,
    redirectUri: TEST_REDIRECT_URI,
    host: pd.mock.url,
  });
}

describe("the official pipedrive SDK against the mock", () => {
  it("runs its OAuth helpers: authorize URL, code exchange, refresh and revoke", async () => {
    const oauth = sdkOAuth();
    const consent = await fetch(oauth.authorizationUrl);
    expect(consent.status).toBe(200);
    expect(await consent.text()).toContain("Allow access to Pipedrive?");

    const { code } = pd.mock.authorize(TEST_REDIRECT_URI, "sdk-state");
    const granted = await oauth.authorize(code);
    expect(granted).toMatchObject({
      token_type: "Bearer",
      expires_in: 3600,
      scope: "base,contacts:read",
      api_domain: `https://${pd.mock.host}`,
    });
    expect(granted.access_token).toMatch(/^mock_at_/);
    expect(granted.refresh_token).toMatch(/^mock_rt_/);

    const refreshed = await oauth.tokenRefresh();
    expect(refreshed.access_token).not.toBe(granted.access_token);
    // Pipedrive documents the same refresh token coming back; the friendly profile rotates it.
    if (pd.mock.behaviour().refreshRotation) expect(refreshed.refresh_token).not.toBe(granted.refresh_token);
    else expect(refreshed.refresh_token).toBe(granted.refresh_token);
    expect(refreshed.expires_in).toBe(3600);
    // The SDK keeps its base path when a refresh answer has no api_domain, as we do.
    if (pd.mock.profile() === "strict") expect(refreshed.api_domain).toBeUndefined();

    const revoked = await oauth.revokeToken("refresh_token");
    expect(revoked.status).toBe(200);
    expect(pd.mock.requests().map((r) => `${r.path} ${r.status}`)).toEqual([
      "/oauth/authorize 200",
      "/oauth/token 200",
      "/oauth/token 200",
      "/oauth/revoke 200",
    ]);
  });

  it("reads the current user (UsersApi.getCurrentUser, v1) and a person search (PersonsApi.searchPersons, v2)", async () => {
    const oauth = sdkOAuth();
    const { access_token: accessToken } = await oauth.authorize(
      pd.mock.authorize(TEST_REDIRECT_URI, "s", null, { who: PAT }).code,
    );

    const users = new v1.UsersApi(new v1.Configuration({ accessToken, basePath: `${pd.mock.url}/api/v1` }));
    const me = await users.getCurrentUser();
    expect(me.success).toBe(true);
    expect(me.data).toMatchObject({
      id: MOCK_USER.id,
      name: MOCK_USER.name,
      company_id: MOCK_COMPANY.id,
      company_name: MOCK_COMPANY.name,
      company_domain: MOCK_COMPANY.domain,
    });

    const persons = new v2.PersonsApi(new v2.Configuration({ accessToken, basePath: `${pd.mock.url}/api/v2` }));
    const found = await persons.searchPersons({
      term: "+55 11 99999-0001",
      fields: "phone",
      exact_match: true,
      limit: 1,
    });
    expect(found.success).toBe(true);
    expect(found.data?.items?.[0]?.item).toMatchObject({
      id: 101,
      type: "person",
      name: "Ana Souza",
      phones: ["+55 11 99999-0001"],
      emails: ["ana@acme.example"],
      organization: { id: 11, name: "Acme Brasil" },
    });
    expect(found.additional_data).toHaveProperty("next_cursor", null);

    pd.mock.setPersons(
      Array.from({ length: 3 }, (_, i) => ({
        id: 900 + i,
        name: `P${i}`,
        phones: ["+55 11 4000-0000"],
        emails: [],
        organization: null,
      })),
    );
    const first = await persons.searchPersons({
      term: "+55 11 4000-0000",
      fields: "phone",
      exact_match: true,
      limit: 2,
    });
    const cursor = (first.additional_data as { next_cursor?: string } | undefined)?.next_cursor;
    expect(first.data?.items?.map((i) => i.item?.id)).toEqual([900, 901]);
    expect(typeof cursor).toBe("string");
    const second = await persons.searchPersons({
      term: "+55 11 4000-0000",
      fields: "phone",
      exact_match: true,
      limit: 2,
      cursor,
    });
    expect(second.data?.items?.map((i) => i.item?.id)).toEqual([902]);
  });
});
