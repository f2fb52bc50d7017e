import type { IncomingMessage, ServerResponse } from "node:http";

import { json } from "./http.ts";
import { type Behaviour, type Faults, type Identity, type MockPerson } from "./model.ts";
import type { MockState } from "./state.ts";

// Control endpoints for tests, benchmarks and QA: what was asked, what to fail, how to behave.
// They exist only on the mock, which runs only in demo mode and in tests.

export type MockConfig = Partial<Behaviour> & {
  tokenLifetimeSeconds?: number;
  redirectUris?: string[];
  /** Scopes the next consents grant. */
  consentScopes?: string[];
};

export function controlEndpoints(
  state: MockState,
  app: { clientId: string; clientSecret: string },
  actions: { reset: () => void; configure: (config: MockConfig) => void },
) {
  const s = state.s;

  /** Sends the notice Pipedrive sends when a user uninstalls the app. */
  async function sendUninstall(body: string) {
    const notice = JSON.parse(body || "{}") as {
      callbackUrl: string;
      companyId?: number;
      userId?: number;
      auth?: "valid" | "wrong" | "none";
    };
    const secret = notice.auth === "wrong" ? "not-the-secret" : app.clientSecret;
    const authorization =
      notice.auth === "none" ? undefined : `Basic ${Buffer.from(`${app.clientId}:${secret}`).toString("base64")}`;
    const answer = await fetch(notice.callbackUrl, {
      method: "DELETE",
      headers: { "Content-Type": "application/json", ...(authorization ? { Authorization: authorization } : {}) },
      body: JSON.stringify({
        client_id: app.clientId,
        company_id: notice.companyId ?? state.named.company.id,
        user_id: notice.userId ?? state.named.user.id,
        timestamp: new Date().toISOString(),
      }),
    });
    return { status: answer.status };
  }

  const installs = () =>
    [...s.installs.values()].map((install) => ({
      ...install.who,
      scopes: install.scopes,
      accessTokens: install.accessTokens.size,
    }));

  return async function control(
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
    body: string,
  ): Promise<boolean> {
    const route = `${req.method} ${path}`;
    const send = (payload: unknown) => {
      json(res, 200, payload);
      return true;
    };
    switch (route) {
      case "GET /__mock/requests":
        return send(s.requests);
      case "GET /__mock/arrivals":
        return send(s.arrivals);
      case "GET /__mock/tokens":
        return send({ issued: s.issued });
      case "GET /__mock/installs":
        return send({ installs: installs(), uninstalls: s.uninstalls });
      case "POST /__mock/reset":
        actions.reset();
        return send({ ok: true });
      case "POST /__mock/faults":
        s.faults = JSON.parse(body || "{}") as Faults;
        return send({ ok: true, faults: s.faults });
      case "POST /__mock/config":
        actions.configure(JSON.parse(body || "{}") as MockConfig);
        return send({ ok: true, behaviour: s.behaviour });
      case "POST /__mock/persons":
        s.persons = JSON.parse(body || "[]") as MockPerson[];
        return send({ ok: true, count: s.persons.length });
      case "POST /__mock/expire-access-tokens":
        for (const entry of s.accessTokens.values()) entry.expiresAt = 0;
        return send({ ok: true });
      case "POST /__mock/revoke-install": {
        // The user removes the app in Pipedrive's own settings (what the uninstall notice reports).
        const who = JSON.parse(body || "{}") as Identity;
        const install = [...s.installs.values()].find(
          (i) => i.who.companyId === who.companyId && i.who.userId === who.userId,
        );
        if (install) state.revoke(install.refreshToken);
        return send({ ok: true, removed: Boolean(install) });
      }
      case "POST /__mock/pairs": {
        // How many of these token pairs still work together (load runs check nothing got mixed).
        const pairs = JSON.parse(body || "[]") as { accessToken: string; refreshToken: string }[];
        return send({ working: pairs.filter((p) => state.pairWorks(p.accessToken, p.refreshToken)).length });
      }
      case "POST /__mock/uninstall":
        return send(await sendUninstall(body));
      default:
        return false;
    }
  };
}
