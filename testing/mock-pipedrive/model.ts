import { randomBytes, randomInt } from "node:crypto";

// The mock's data model: who can grant, what an install holds, and the switches a test sets.
//
// Pipedrive's documented install model: an install belongs to one Pipedrive user in one
// company, for one app. Refresh does not rotate the refresh token (it extends its 60 days);
// revoking a refresh token uninstalls the app for that user and company.

export type MockProfile = "friendly" | "strict";

/** The documented shapes of a token error: OAuth JSON, Pipedrive's API JSON, or plain text. */
export type ErrorShape = "oauth-json" | "api-json" | "text";

export type MockPerson = {
  id: number;
  name: string;
  phones: string[];
  /** Numbers kept in the company's custom phone field: searched only with fields=custom_fields. */
  customPhones?: string[];
  emails: string[];
  organization: { id: number; name: string } | null;
};

export type TokenFault =
  | "500"
  | "timeout"
  | "malformed"
  | "html"
  | "invalid_grant"
  | "bad_api_domain"
  | "no_refresh_token"
  | "string_expires_in";

/** How a token request authenticated the app: Basic header (what we send) or form body. */
export type ClientAuthStyle = "basic" | "body";

export type Faults = {
  /**
   * `live`: the code is redeemed as usual (the install exists, its grant is real) and only the
   * answer's shape is broken, as a Pipedrive bug would; otherwise the answer's tokens belong to no install.
   */
  token?: { mode: TokenFault; grant?: "authorization_code" | "refresh_token"; times?: number; live?: boolean };
  revoke?: { mode: "500"; times?: number };
  api401?: { times?: number };
  /** The company's subscription lapsed: API calls answer 402. */
  api402?: { times?: number };
  /**
   * API calls answer 403: the user lacks a permission. `only: "search"`: only searches do, as
   * when the user account has reached a limit for an entity (users/me needs only `base`).
   */
  api403?: { times?: number; only?: "search" };
  /** This endpoint answers 200 with a JSON body that never ends, until the client hangs up. */
  endlessAnswer?: "token" | "me" | "search";
  /** This endpoint answers 200, sends its first bytes, and then nothing, until the client hangs up. */
  stalledAnswer?: "token" | "me" | "search";
  /** Added before every /oauth/token answer. */
  tokenLatencyMs?: number;
  /**
   * Added after a token request was decided (a refresh token is already rotated or refused),
   * before the answer leaves: per client-auth style, to stage races between two clients.
   */
  tokenReplyDelayMs?: Partial<Record<ClientAuthStyle, number>>;
  /** Token requests wait, unanswered, until releaseTokenRequests(): a Pipedrive that hangs, on cue. */
  holdTokenRequests?: boolean;
  /**
   * Answers to form-body clients (the lead-enrichment service) are decided at once but held
   * until a Basic client's (ours) token request has been decided too: the race where its
   * rotation reaches Pipedrive first and its write lands while our refresh is in flight.
   */
  holdBodyRepliesForBasic?: boolean;
  /** Added before every API answer. */
  apiLatencyMs?: number;
  /**
   * A shared search window answering 429. `daily`: the body integrators report for a spent daily
   * budget ("daily request budget exceeded"), whose headers Pipedrive does not document; then
   * `retryAfterSeconds` null sends no Retry-After at all.
   */
  searchRateLimit?: { limit: number; windowMs: number; retryAfterSeconds: number | null; daily?: boolean };
};

/** A second code exchange for an install that exists: keep its refresh token, or replace the whole set. */
export type Reinstall = "same-grant" | "replace-grant";

/** Switches where Pipedrive's docs are silent; each profile has defaults, each test may set them. */
export type Behaviour = {
  profile: MockProfile;
  errorShape: ErrorShape | null;
  dailyBudget: number;
  /** A refresh answers with a new refresh token and kills the old one (OAuth 2.1 allows it). */
  refreshRotation: boolean;
  reinstall: Reinstall;
  /** The company has a custom person field of type phone (Pipedrive leaves this to each company). */
  customPhoneField: boolean;
};

/** The custom phone field's key when the company has one: Pipedrive's keys are 40 hex characters. */
export const CUSTOM_PHONE_FIELD_KEY = "5e2c7a1b9d3f4e6a8b0c2d4e6f8a0b1c3d5e7f9a";

export const DEFAULT_DAILY_BUDGET = 10_000;

/** The documented model in strict; the friendly profile rotates, so both settings stay exercised. */
export function defaultBehaviour(profile: MockProfile, dailyBudget = DEFAULT_DAILY_BUDGET): Behaviour {
  return profile === "strict"
    ? {
        profile,
        errorShape: null,
        dailyBudget,
        refreshRotation: false,
        reinstall: "replace-grant",
        customPhoneField: false,
      }
    : {
        profile,
        errorShape: null,
        dailyBudget,
        refreshRotation: true,
        reinstall: "same-grant",
        customPhoneField: false,
      };
}

export const MOCK_COMPANY = { id: 7001, name: "Acme Mock Company", domain: "acme-mock" };
export const SECOND_COMPANY = { id: 7002, name: "Beta Mock Company", domain: "beta-mock" };
export const MOCK_USER = { id: 9001, name: "Pat Pipedrive", email: "pat@acme-mock.example" };
export const SECOND_USER = { id: 9002, name: "Sam Second", email: "sam@acme-mock.example" };

/** Who can grant on the consent page: two users of one company, and one user in two companies. */
export const IDENTITIES = [
  { user: MOCK_USER, company: MOCK_COMPANY },
  { user: SECOND_USER, company: MOCK_COMPANY },
  { user: MOCK_USER, company: SECOND_COMPANY },
] as const;

export type Identity = { userId: number; companyId: number };

/**
 * One mock serves several test workers at once, each in a world of its own: its own installs,
 * faults, switches, people and request log, and its own ids for the named users and companies
 * (the app tells workspaces' Pipedrive companies apart by id). World 0 is the mock as it always
 * was. A browser says its world with a cookie (as Pipedrive's consent page knows who is signed
 * in by its session); every code and token a world issues carries the world, so the app's calls
 * find it; control calls name it in a header.
 */
export const WORLD_COOKIE = "mock_pipedrive_world";
export const WORLD_HEADER = "x-mock-world";
/**
 * Every control call carries this header: a page on another site cannot add it without a CORS
 * preflight, which the mock never answers, so it cannot drive the mock through a browser.
 */
export const CONTROL_HEADER = "x-mock-control";
export const MAX_WORLDS = 16;
const WORLD_ID_STRIDE = 100_000;

/** A world's number from a cookie, header or token suffix: 0 unless it is one of the MAX_WORLDS. */
export function worldNumber(value: string | undefined | null): number {
  const world = Number(value ?? 0);
  return Number.isInteger(world) && world >= 0 && world < MAX_WORLDS ? world : 0;
}

/** The world a code or token belongs to (world 0 issues them without a suffix). */
export const worldOfToken = (token: string | null | undefined) => worldNumber(token?.match(/\.w(\d{1,2})$/)?.[1]);

/** The named users and companies as a world sees them: the same names, ids of its own. */
export function namedIdentities(world: number) {
  const shift = <T extends { id: number }>(named: T): T => ({ ...named, id: named.id + world * WORLD_ID_STRIDE });
  return {
    company: shift(MOCK_COMPANY),
    user: shift(MOCK_USER),
    companies: [shift(MOCK_COMPANY), shift(SECOND_COMPANY)],
    users: [shift(MOCK_USER), shift(SECOND_USER)],
    identities: IDENTITIES.map(({ user, company }) => ({ user: shift(user), company: shift(company) })),
  };
}

/** Who an install belongs to: the named users and companies, or a user a test made up (tests with many tenants need many). */
export function identityOf(who: Identity, world = 0) {
  const named = namedIdentities(world);
  const company = named.companies.find((c) => c.id === who.companyId) ?? {
    id: who.companyId,
    name: `Mock Company ${who.companyId}`,
    domain: `company-${who.companyId}`,
  };
  const user = named.users.find((u) => u.id === who.userId) ?? {
    id: who.userId,
    name: `Mock User ${who.userId}`,
    email: `user${who.userId}@mock.example`,
  };
  return { user, company };
}

/**
 * A Pipedrive user of the mock company that no other test uses, so each tenant gets its own
 * install: test files run in parallel processes on one database.
 */
let nextUserId = randomInt(1_000_000, 2_000_000_000);
export function freshIdentity(companyId = MOCK_COMPANY.id): Identity {
  return { userId: nextUserId++, companyId };
}

export const DEFAULT_SCOPES = ["base", "contacts:read"];

export const DEFAULT_PERSONS: MockPerson[] = [
  {
    id: 101,
    name: "Ana Souza",
    phones: ["+55 11 99999-0001"],
    emails: ["ana@acme.example"],
    organization: { id: 11, name: "Acme Brasil" },
  },
  { id: 102, name: "Bruno Lima", phones: ["(11) 98888-0002", "+55 11 3333-0002"], emails: [], organization: null },
  {
    id: 103,
    name: "Carla Dias",
    phones: ["+1 415 555 0103"],
    emails: ["carla@example.com"],
    organization: { id: 12, name: "Dias Consulting" },
  },
  // Found only where the company has a custom phone field, and only when the search asks for it.
  { id: 104, name: "Dora Campo", phones: [], customPhones: ["+55 11 97777-0004"], emails: [], organization: null },
];

/** One app installed by one user in one company: at most one live token set. */
export type Install = {
  key: string;
  who: Identity;
  scopes: string[];
  refreshToken: string;
  refreshExpiresAt: number;
  accessTokens: Set<string>;
};

export type RecordedRequest = {
  method: string;
  path: string;
  /** persons/search: the fields it searched. */
  fields?: string;
  grantType?: string;
  clientAuth?: ClientAuthStyle;
  status: number;
  time: string;
};

export type Uninstall = Identity & { reason: "revoked"; time: string };

export const REFRESH_WINDOW_MS = 60 * 86_400_000;
export const CODE_LIFETIME_MS = 5 * 60_000;

export const newToken = (prefix: string, world = 0) =>
  `${prefix}_${randomBytes(18).toString("base64url")}${world ? `.w${world}` : ""}`;

export const installKey = (who: Identity, clientId: string) => `${who.companyId}:${who.userId}:${clientId}`;
