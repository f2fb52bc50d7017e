import { CONTROL_HEADER, WORLD_HEADER } from "../../testing/mock-pipedrive/model.ts";
import { MOCK_URL, PIPEDRIVE, SLOT } from "./env.ts";

// The mock Pipedrive's control endpoints: the only way specs change its behaviour. Each call is
// about this worker's world of the mock: its faults, its requests, its installs.

type Recorded = { method: string; path: string; grantType?: string; status: number };

async function call<T>(method: "GET" | "POST", path: string, body?: unknown): Promise<T> {
  const response = await fetch(`${MOCK_URL}${path}`, {
    method,
    headers: { [WORLD_HEADER]: String(SLOT), [CONTROL_HEADER]: "1" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`mock ${path}: HTTP ${response.status}`);
  return (await response.json()) as T;
}

export const mock = {
  reset: () => call("POST", "/__mock/reset"),
  faults: (faults: Record<string, unknown>) => call("POST", "/__mock/faults", faults),
  requests: () => call<Recorded[]>("GET", "/__mock/requests"),
  /** API paths as calls reached the mock, before its latency: what is in flight shows here first. */
  arrivals: () => call<string[]>("GET", "/__mock/arrivals"),
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
  /** Pipedrive's uninstall notice, by default from Pat Pipedrive of Acme Mock Company. */
  uninstall: (
    callbackUrl: string,
    auth: "valid" | "wrong" | "none" = "valid",
    who: { userId: number; companyId: number } = { userId: PIPEDRIVE.pat, companyId: PIPEDRIVE.acme },
  ) => call<{ status: number }>("POST", "/__mock/uninstall", { callbackUrl, auth, ...who }),
  /** A code Pipedrive never issued, that the mock still takes for this world's (as an attacker's would reach it). */
  forgedCode: (name: string) => (SLOT ? `${name}.w${SLOT}` : name),
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
