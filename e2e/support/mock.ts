import { MOCK_URL } from "./env.ts";

// The mock Pipedrive's control endpoints: the only way specs change its behaviour.

type Recorded = { method: string; path: string; grantType?: string; status: number };

async function call<T>(method: "GET" | "POST", path: string, body?: unknown): Promise<T> {
  const response = await fetch(`${MOCK_URL}${path}`, {
    method,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`mock ${path}: HTTP ${response.status}`);
  return (await response.json()) as T;
}

export const mock = {
  reset: () => call("POST", "/__mock/reset"),
  faults: (faults: Record<string, unknown>) => call("POST", "/__mock/faults", faults),
  requests: () => call<Recorded[]>("GET", "/__mock/requests"),
  tokenRequests: async (grantType?: string) =>
    (await mock.requests()).filter((r) => r.path === "/oauth/token" && (!grantType || r.grantType === grantType)),
  issuedTokens: async () => (await call<{ issued: string[] }>("GET", "/__mock/tokens")).issued,
  persons: (
    persons: {
      id: number;
      name: string;
      phones: string[];
      emails: string[];
      organization: { id: number; name: string } | null;
    }[],
  ) => call("POST", "/__mock/persons", persons),
  /** Pipedrive's uninstall notice, by default from Pat Pipedrive (9001) of Acme Mock Company (7001). */
  uninstall: (
    callbackUrl: string,
    auth: "valid" | "wrong" | "none" = "valid",
    who: { userId: number; companyId: number } = { userId: 9001, companyId: 7001 },
  ) => call<{ status: number }>("POST", "/__mock/uninstall", { callbackUrl, auth, ...who }),
  /** Install switches and granted scopes (POST /__mock/config). */
  config: (config: Record<string, unknown>) => call("POST", "/__mock/config", config),
  installs: () =>
    call<{ installs: { userId: number; companyId: number }[]; uninstalls: { userId: number; companyId: number }[] }>(
      "GET",
      "/__mock/installs",
    ),
  /** Whether Pipedrive accepts this access token now. */
  accepts: async (accessToken: string) =>
    (await fetch(`${MOCK_URL}/api/v1/users/me`, { headers: { Authorization: `Bearer ${accessToken}` } })).status ===
    200,
};
