// Pipedrive answers with api_domain as a URL ("https://acme.pipedrive.com"). The shared
// table stores a bare host ("acme.pipedrive.com") because its other reader prepends
// https:// itself. Rows written by that reader may still carry a scheme: read tolerantly.

export type HostPolicy = {
  /** host[:port] of the local mock Pipedrive, spoken to over plain http; null in production. */
  mockHost: string | null;
};

const PIPEDRIVE_HOST = /^(?!-)[a-z0-9-]{1,63}\.pipedrive\.com$/;

/** The bare host of an api_domain from a token answer, or null when it is not one we may call. */
export function allowedApiHost(apiDomain: string, policy: HostPolicy): string | null {
  // The common case, on every token read: a bare host as we store it. No URL parsing needed.
  if (PIPEDRIVE_HOST.test(apiDomain) || (policy.mockHost !== null && apiDomain === policy.mockHost)) return apiDomain;
  let url: URL;
  try {
    url = new URL(apiDomain.includes("://") ? apiDomain : `https://${apiDomain}`);
  } catch {
    return null;
  }
  if (url.username || url.password || url.search || url.hash || (url.pathname !== "/" && url.pathname !== ""))
    return null;
  if (url.protocol === "https:" && !url.port && PIPEDRIVE_HOST.test(url.hostname)) return url.hostname;
  if (policy.mockHost && url.host === policy.mockHost) return url.host;
  return null;
}

/** Whatever is stored (bare host, or a URL someone else wrote) as a bare host; hosts have no case. */
export function toBareHost(stored: string): string {
  return stored
    .trim()
    .replace(/^[a-z]+:\/\//i, "")
    .replace(/\/.*$/, "")
    .toLowerCase();
}

/** The base URL for API calls to a stored api_domain. */
export function apiBaseUrl(stored: string, policy: HostPolicy): string {
  const host = toBareHost(stored);
  return host === policy.mockHost ? `http://${host}` : `https://${host}`;
}
