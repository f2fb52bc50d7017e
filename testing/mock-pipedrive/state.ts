import {
  CODE_LIFETIME_MS,
  DEFAULT_PERSONS,
  DEFAULT_SCOPES,
  defaultBehaviour,
  installKey,
  namedIdentities,
  newToken,
  REFRESH_WINDOW_MS,
  type Behaviour,
  type Faults,
  type Identity,
  type Install,
  type MockPerson,
  type MockProfile,
  type RecordedRequest,
  type Uninstall,
} from "./model.ts";

// Everything the mock remembers, and the install model's rules over it. HTTP lives elsewhere.

export type MockOptions = {
  port?: number;
  host?: string;
  clientId?: string;
  clientSecret?: string;
  redirectUris?: string[];
  tokenLifetimeSeconds?: number;
  /** How the mock names itself in token answers; defaults to https://localhost:<port>, a URL as Pipedrive sends it. */
  apiDomain?: string;
  persons?: MockPerson[];
  quiet?: boolean;
  profile?: MockProfile;
  /** Requests per company per day in the strict profile. */
  dailyBudget?: number;
  /** Switches over the profile's defaults, kept across reset(). */
  behaviour?: Partial<Behaviour>;
};

type Code = {
  redirectUri: string;
  expiresAt: number;
  used: boolean;
  challenge: string | null;
  who: Identity;
  scopes: string[];
};

export type Consent = { who?: Identity; scopes?: string[] };

export function createState(options: MockOptions, clientId: string, world = 0) {
  const named = namedIdentities(world);
  const behaviourDefault = () => ({
    ...defaultBehaviour(options.profile ?? "friendly", options.dailyBudget),
    ...options.behaviour,
  });
  const s = {
    redirectUris: new Set(options.redirectUris ?? []),
    tokenLifetimeSeconds: options.tokenLifetimeSeconds ?? 3600,
    codes: new Map<string, Code>(),
    installs: new Map<string, Install>(),
    /** Refresh tokens ever issued; a dead one still maps here so a reuse reads as invalid_grant. */
    refreshTokens: new Map<string, { install: Install; live: boolean }>(),
    accessTokens: new Map<string, { install: Install; expiresAt: number; live: boolean }>(),
    issued: [] as string[],
    requests: [] as RecordedRequest[],
    /** API paths as calls arrive, before apiLatencyMs: `requests` holds them once answered. */
    arrivals: [] as string[],
    uninstalls: [] as Uninstall[],
    faults: {} as Faults,
    persons: [...(options.persons ?? DEFAULT_PERSONS)],
    searchWindow: { start: 0, count: 0 },
    behaviour: behaviourDefault(),
    burst: new Map<string, { start: number; general: number; search: number }>(),
    budget: { day: "", used: 0 },
    held: [] as (() => void)[],
    heldBodyReplies: [] as (() => void)[],
    /** Granted scopes for the next consent, unless the consent names its own. */
    consentScopes: DEFAULT_SCOPES,
  };

  function issueAccess(install: Install): string {
    const token = newToken("mock_at", world);
    install.accessTokens.add(token);
    s.accessTokens.set(token, { install, expiresAt: Date.now() + s.tokenLifetimeSeconds * 1000, live: true });
    s.issued.push(token);
    return token;
  }

  function issueRefresh(install: Install): string {
    const old = s.refreshTokens.get(install.refreshToken);
    if (old) old.live = false;
    install.refreshToken = newToken("mock_rt", world);
    install.refreshExpiresAt = Date.now() + REFRESH_WINDOW_MS;
    s.refreshTokens.set(install.refreshToken, { install, live: true });
    s.issued.push(install.refreshToken);
    return install.refreshToken;
  }

  function killAccessTokens(install: Install) {
    for (const token of install.accessTokens) {
      const entry = s.accessTokens.get(token);
      if (entry) entry.live = false;
    }
    install.accessTokens.clear();
  }

  return {
    s,
    world,
    named,
    resetBehaviour: () => void (s.behaviour = behaviourDefault()),
    issueCode(redirectUri: string, challenge: string | null, consent: Consent = {}): string {
      const code = newToken("mock_code", world);
      s.codes.set(code, {
        redirectUri,
        challenge,
        expiresAt: Date.now() + CODE_LIFETIME_MS,
        used: false,
        who: consent.who ?? { userId: named.user.id, companyId: named.company.id },
        scopes: consent.scopes ?? s.consentScopes,
      });
      return code;
    },
    takeCode(code: string, redirectUri: string | null): Code | "invalid" {
      const entry = s.codes.get(code);
      if (!entry || entry.used || entry.expiresAt <= Date.now() || entry.redirectUri !== redirectUri) return "invalid";
      entry.used = true;
      return entry;
    },
    /** A code exchange: a new install, or a second exchange for one that exists. */
    install(code: Code) {
      const key = installKey(code.who, clientId);
      let install = s.installs.get(key);
      if (!install) {
        install = {
          key,
          who: code.who,
          scopes: code.scopes,
          refreshToken: "",
          refreshExpiresAt: 0,
          accessTokens: new Set(),
        };
        s.installs.set(key, install);
        issueRefresh(install);
      } else {
        install.scopes = code.scopes;
        if (s.behaviour.reinstall === "replace-grant") {
          killAccessTokens(install);
          issueRefresh(install);
        } else {
          install.refreshExpiresAt = Date.now() + REFRESH_WINDOW_MS;
        }
      }
      return { install, accessToken: issueAccess(install) };
    },
    /** A refresh: the same refresh token with its window extended, or a rotated one. */
    refresh(refreshToken: string) {
      const entry = s.refreshTokens.get(refreshToken);
      const install = entry?.live ? entry.install : undefined;
      if (!install || s.installs.get(install.key) !== install || install.refreshExpiresAt <= Date.now()) return null;
      if (s.behaviour.refreshRotation) issueRefresh(install);
      else install.refreshExpiresAt = Date.now() + REFRESH_WINDOW_MS;
      return { install, accessToken: issueAccess(install) };
    },
    /** RFC 7009: a refresh token uninstalls the app for that user and company; an access token is just that token. */
    revoke(token: string) {
      const access = s.accessTokens.get(token);
      if (access) {
        access.live = false;
        access.install.accessTokens.delete(token);
        return;
      }
      const refresh = s.refreshTokens.get(token);
      if (!refresh?.live || s.installs.get(refresh.install.key) !== refresh.install) return;
      const install = refresh.install;
      refresh.live = false;
      killAccessTokens(install);
      s.installs.delete(install.key);
      s.uninstalls.push({ ...install.who, reason: "revoked", time: new Date().toISOString() });
    },
    /** Both tokens live, and of one install: a pair a client can keep using. */
    pairWorks(accessToken: string, refreshToken: string): boolean {
      const access = s.accessTokens.get(accessToken);
      const refresh = s.refreshTokens.get(refreshToken);
      if (!access?.live || !refresh?.live || access.install !== refresh.install) return false;
      return s.installs.get(access.install.key) === access.install;
    },
    bearer(value: string | undefined) {
      const entry = value ? s.accessTokens.get(value) : undefined;
      if (!value || !entry?.live || entry.expiresAt <= Date.now()) return null;
      if (s.installs.get(entry.install.key) !== entry.install) return null;
      return { token: value, install: entry.install };
    },
  };
}

export type MockState = ReturnType<typeof createState>;
