import type { IncomingMessage, ServerResponse } from "node:http";

import { delay, endless, json, stalled } from "./http.ts";
import { CUSTOM_PHONE_FIELD_KEY, identityOf } from "./model.ts";
import { rateLimit } from "./rate-limits.ts";
import type { MockState } from "./state.ts";

// The bits of Pipedrive's API we use: users/me, and person search in v2 (and the deprecated v1
// that the lead-enrichment service still calls). Every call needs a live token of a live install.

type Record = (req: IncomingMessage, path: string, status: number) => void;

export function apiEndpoints(state: MockState, record: Record) {
  const s = state.s;

  /** Exact phone match: digits only when friendly; the stored text, case-insensitively, when strict. */
  /** What v2 persons/search takes in `fields`. */
  const SEARCH_FIELDS = new Set(["name", "email", "phone", "notes", "custom_fields"]);

  function phoneMatches(stored: string, term: string): boolean {
    if (s.behaviour.profile === "strict") return stored.trim().toLowerCase() === term.trim().toLowerCase();
    const digits = term.replace(/\D/g, "");
    return digits.length > 0 && (stored.replace(/\D/g, "") === digits || stored === term);
  }

  function takeApiFault(kind: "api401" | "api402" | "api403", path: string): boolean {
    const fault = s.faults[kind];
    if (!fault) return false;
    if (kind === "api403" && s.faults.api403?.only === "search" && !path.includes("/search")) return false;
    if (fault.times !== undefined && --fault.times <= 0) delete s.faults[kind];
    return true;
  }

  /** The caller, or null once an error was sent: 401 dead token, 402 lapsed subscription, 403 missing permission. */
  async function caller(req: IncomingMessage, res: ServerResponse, path: string) {
    s.arrivals.push(path);
    if (s.faults.apiLatencyMs) await delay(s.faults.apiLatencyMs);
    const found = state.bearer(req.headers.authorization?.match(/^Bearer (.+)$/)?.[1]);
    if (!found || takeApiFault("api401", path)) {
      record(req, path, 401);
      return void json(res, 401, { success: false, error: "unauthorized access", errorCode: 401 });
    }
    if (takeApiFault("api402", path)) {
      record(req, path, 402);
      return void json(res, 402, {
        success: false,
        error: "Payment required: the company's subscription is not active",
        errorCode: 402,
      });
    }
    if (takeApiFault("api403", path)) {
      record(req, path, 403);
      return void json(res, 403, {
        success: false,
        error: "You do not have permission to perform this action",
        errorCode: 403,
      });
    }
    return found;
  }

  async function me(req: IncomingMessage, res: ServerResponse) {
    const path = "/api/v1/users/me";
    const found = await caller(req, res, path);
    if (!found) return;
    const limits = rateLimit(state, res, found.token, false);
    if (!limits) return record(req, path, 429);
    if (s.faults.endlessAnswer === "me") return void (record(req, path, 200), endless(res));
    if (s.faults.stalledAnswer === "me") return void (record(req, path, 200), stalled(res));
    const who = identityOf(found.install.who, state.world);
    record(req, path, 200);
    const data = {
      id: who.user.id,
      name: who.user.name,
      email: who.user.email,
      company_id: who.company.id,
      company_name: who.company.name,
      company_domain: who.company.domain,
    };
    return json(res, 200, { success: true, data }, limits);
  }

  async function search(req: IncomingMessage, res: ServerResponse, url: URL, version: 1 | 2) {
    const path = url.pathname;
    const found = await caller(req, res, path);
    if (!found) return;
    const limits = rateLimit(state, res, found.token, true);
    if (!limits) return record(req, path, 429);
    if (s.faults.endlessAnswer === "search") return void (record(req, path, 200), endless(res));
    if (s.faults.stalledAnswer === "search") return void (record(req, path, 200), stalled(res));
    const term = url.searchParams.get("term") ?? "";
    const page = pageOf(url.searchParams, version);
    if ("error" in page) {
      record(req, path, 400);
      return json(res, 400, { success: false, error: page.error, errorCode: 400 }, limits);
    }
    const fields = (url.searchParams.get("fields") ?? "phone").split(",");
    if (s.behaviour.profile === "strict" && fields.some((field) => !SEARCH_FIELDS.has(field))) {
      record(req, path, 400);
      return json(res, 400, { success: false, error: "Invalid fields", errorCode: 400 }, limits);
    }
    const customPhones = fields.includes("custom_fields") && s.behaviour.customPhoneField;
    const matches = s.persons.filter((person) =>
      [...(fields.includes("phone") ? person.phones : []), ...(customPhones ? (person.customPhones ?? []) : [])].some(
        (phone) => phoneMatches(phone, term),
      ),
    );
    const owner = { id: found.install.who.userId };
    const items = matches.slice(page.offset, page.offset + page.limit).map((person) => ({
      result_score: 1,
      item: {
        id: person.id,
        type: "person",
        name: person.name,
        phones: person.phones,
        emails: person.emails,
        organization: person.organization,
        owner,
        // Pipedrive lists the values of the custom fields the term matched, not which fields.
        custom_fields: customPhones ? (person.customPhones ?? []).filter((phone) => phoneMatches(phone, term)) : [],
      },
    }));
    const more = page.offset + page.limit < matches.length;
    record(req, path, 200);
    if (version === 1) {
      const pagination = {
        start: page.offset,
        limit: page.limit,
        more_items_in_collection: more,
        ...(more ? { next_start: page.offset + page.limit } : {}),
      };
      return json(res, 200, { success: true, data: { items }, additional_data: { pagination } }, limits);
    }
    const next_cursor = more ? encodeCursor(page.offset + page.limit) : null;
    return json(res, 200, { success: true, data: { items }, additional_data: { next_cursor } }, limits);
  }

  /** GET /v1/personFields: the standard fields, and the custom phone field when the company has one. */
  async function personFields(req: IncomingMessage, res: ServerResponse) {
    const path = "/api/v1/personFields";
    // The api401/402/403 faults stage answers of users/me and search; they are not spent here.
    const found = state.bearer(req.headers.authorization?.match(/^Bearer (.+)$/)?.[1]);
    if (!found) {
      record(req, path, 401);
      return void json(res, 401, { success: false, error: "unauthorized access", errorCode: 401 });
    }
    const limits = rateLimit(state, res, found.token, false);
    if (!limits) return record(req, path, 429);
    record(req, path, 200);
    const data = [
      { id: 1, key: "name", name: "Name", field_type: "varchar" },
      { id: 2, key: "phone", name: "Phone", field_type: "phone" },
      { id: 3, key: "email", name: "Email", field_type: "varchar" },
      ...(s.behaviour.customPhoneField
        ? [{ id: 9001, key: CUSTOM_PHONE_FIELD_KEY, name: "Work mobile", field_type: "phone" }]
        : []),
    ];
    return json(
      res,
      200,
      { success: true, data, additional_data: { pagination: { more_items_in_collection: false } } },
      limits,
    );
  }

  return { me, search, personFields };
}

const encodeCursor = (offset: number) => Buffer.from(JSON.stringify({ offset })).toString("base64url");

/** Pipedrive's paging: v2 takes limit (1–500, default 100) and an opaque cursor; v1 takes start. */
function pageOf(query: URLSearchParams, version: 1 | 2): { offset: number; limit: number } | { error: string } {
  const limit = query.has("limit") ? Number(query.get("limit")) : 100;
  if (!Number.isInteger(limit) || limit < 1 || limit > 500) return { error: "limit must be an integer from 1 to 500" };
  if (version === 1) {
    const start = Number(query.get("start") ?? 0);
    return Number.isInteger(start) && start >= 0
      ? { offset: start, limit }
      : { error: "start must be a non-negative integer" };
  }
  const cursor = query.get("cursor");
  if (!cursor) return { offset: 0, limit };
  try {
    const { offset } = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as { offset: unknown };
    if (typeof offset === "number" && Number.isInteger(offset) && offset >= 0) return { offset, limit };
  } catch {
    // falls through to the error below
  }
  return { error: "Invalid cursor" };
}
