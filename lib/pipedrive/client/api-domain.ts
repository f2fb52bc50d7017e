// Pipedrive answers with api_domain as a URL ("https://acme.pipedrive.com"). The shared
// table stores a bare host ("acme.pipedrive.com") because its other reader prepends
// https:// itself. Rows written by that reader may still carry a scheme: read tolerantly.

export type HostPolicy = {
  /** host[:port] of the local mock Pipedrive, spoken to over plain http; null in production. */
  mockHost: string | null;
};

const PIPEDRIVE_HOST = /^(?!-)[a-z0-9-]{1,63}\.pipedrive\.com$/;

/**
 * The bare host of an api_domain from a token answer, or null when it is not one we may call.
 * The status view's pipedrive_allowed_api_host says the same of every stored value (a test holds
 * the two together).
 */
export function allowedApiHost(apiDomain: string, policy: HostPolicy): string | null {
  // The common case, on every token read: a bare host as we store it. No URL parsing needed.
  if (PIPEDRIVE_HOST.test(apiDomain) || (policy.mockHost !== null && apiDomain === policy.mockHost)) return apiDomain;
  // Only what a host, a scheme and a slash are made of: the URL parser would otherwise trim
  // spaces, decode %-escapes or map Unicode into a host the stored text does not name.
  if (!/^[A-Za-z0-9.:/[\]-]+$/.test(apiDomain)) return null;
  let url: URL;
  try {
    url = new URL(apiDomain.includes("://") ? apiDomain : `https://${apiDomain}`);
  } catch {
    return null;
  }
  if (url.username || url.password || url.search || url.hash || (url.pathname !== "/" && url.pathname !== ""))
    return null;
  // The stored text must already name the host as the parser reads it (no ":0443", no "localhost:04010").
  if (url.host !== toBareHost(apiDomain)) return null;
  if (url.protocol === "https:" && !url.port && PIPEDRIVE_HOST.test(url.hostname)) return url.hostname;
  if (policy.mockHost && /^https?:$/.test(url.protocol) && url.host === policy.mockHost) return url.host;
  return null;
}

/**
 * Whatever is stored (a bare host, or a URL someone else wrote) as the bare host every match is
 * made on: a company's pause, usage and what we learnt of it. Hosts have no case; https's port
 * is no part of it. SQL's pipedrive_bare_host is the same function (a test holds them together).
 */
export function toBareHost(stored: string): string {
  return stored
    .replace(/[A-Z]/g, (c) => c.toLowerCase())
    .replace(/^[a-z][a-z0-9+.-]*:\/\//, "")
    .replace(/\/.*$/, "")
    .replace(/:443$/, "");
}

/** The base URL for API calls to a stored api_domain. */
export function apiBaseUrl(stored: string, policy: HostPolicy): string {
  const host = toBareHost(stored);
  return host === policy.mockHost ? `http://${host}` : `https://${host}`;
}
