import type { IncomingMessage, ServerResponse } from "node:http";

import { escape, html, page } from "./http.ts";
import type { Identity } from "./model.ts";
import type { MockState } from "./state.ts";

// Pipedrive's consent page, and the Marketplace listing that starts an install without `state`.
// The tester chooses which Pipedrive user, in which company, grants access.

type Record = (req: IncomingMessage, path: string, status: number) => void;

export function consentPages(state: MockState, clientId: string, record: Record) {
  const known = (redirectUri: string) => state.s.redirectUris.has(redirectUri);

  function authorize(req: IncomingMessage, res: ServerResponse, url: URL) {
    const q = url.searchParams;
    const redirectUri = q.get("redirect_uri") ?? "";
    if (q.get("client_id") !== clientId) {
      record(req, url.pathname, 400);
      return html(res, 400, page("Invalid client", "<p>This app is not known to Pipedrive (unknown client_id).</p>"));
    }
    if (!known(redirectUri)) {
      record(req, url.pathname, 400);
      return html(
        res,
        400,
        page("Invalid redirect", "<p>The redirect_uri does not match the one registered for this app.</p>"),
      );
    }
    const challenge = q.get("code_challenge");
    if (
      q.has("code_challenge") &&
      (q.get("code_challenge_method") !== "S256" || !/^[A-Za-z0-9_-]{43}$/.test(challenge ?? ""))
    ) {
      record(req, url.pathname, 400);
      return html(res, 400, page("Invalid PKCE", "<p>Only an S256 code_challenge is accepted.</p>"));
    }
    record(req, url.pathname, 200);
    const carried = ["state", "code_challenge"].filter((name) => q.has(name));
    const hidden =
      `<input type="hidden" name="redirect_uri" value="${escape(redirectUri)}">` +
      carried.map((name) => `<input type="hidden" name="${name}" value="${escape(q.get(name) ?? "")}">`).join("");
    const choices = state.named.identities
      .map(
        ({ user, company }, i) =>
          `<label><input type="radio" name="who" value="${user.id}@${company.id}"${i === 0 ? " checked" : ""}> ` +
          `${escape(user.name)} in <strong>${escape(company.name)}</strong></label>`,
      )
      .join("");
    return html(
      res,
      200,
      page(
        "Allow access to Pipedrive?",
        `<p>An app wants to read contacts in your Pipedrive company.</p>
         <form method="post" action="/oauth/authorize/decision">${hidden}
           <fieldset><legend>Signed in to Pipedrive as</legend>${choices}</fieldset>
           <div class="actions">
             <button type="submit" name="decision" value="allow">Allow</button>
             <button type="submit" name="decision" value="deny" class="secondary">Deny</button>
           </div>
         </form>`,
      ),
    );
  }

  function decide(req: IncomingMessage, res: ServerResponse, body: string) {
    const form = new URLSearchParams(body);
    const redirectUri = form.get("redirect_uri") ?? "";
    if (!known(redirectUri)) return html(res, 400, page("Invalid redirect", "<p>Unregistered redirect_uri.</p>"));
    const target = new URL(redirectUri);
    if (form.get("decision") === "allow") {
      const who = form.has("who")
        ? parseWho(form.get("who"))
        : { userId: state.named.user.id, companyId: state.named.company.id };
      if (!who) return html(res, 400, page("Who are you?", "<p>Choose a Pipedrive user.</p>"));
      target.searchParams.set("code", state.issueCode(redirectUri, form.get("code_challenge"), { who }));
    } else {
      // What Pipedrive sends when the user cancels on its consent page.
      target.searchParams.set("error", "user_denied");
    }
    if (form.has("state")) target.searchParams.set("state", form.get("state") ?? "");
    record(req, "/oauth/authorize/decision", 302);
    res.writeHead(302, { Location: target.toString() }).end();
  }

  /** The app's Marketplace listing: "Install" goes to consent without our state, as Pipedrive's does. */
  function marketplace(res: ServerResponse, url: URL) {
    const redirectUri = url.searchParams.get("redirect_uri") ?? [...state.s.redirectUris][0] ?? "";
    const install = `/oauth/authorize?${new URLSearchParams({ client_id: clientId, redirect_uri: redirectUri })}`;
    return html(
      res,
      200,
      page(
        "CRM lead enrichment",
        `<p>Find the people who call you in your Pipedrive contacts.</p>
         <div class="actions"><a class="button" href="${escape(install)}">Install from Marketplace</a></div>`,
      ),
    );
  }

  return { authorize, decide, marketplace };
}

function parseWho(value: string | null): Identity | null {
  const match = value?.match(/^(\d+)@(\d+)$/);
  if (!match) return null;
  // Any user and company: benchmarks and load runs need one install per tenant.
  return { userId: Number(match[1]), companyId: Number(match[2]) };
}
