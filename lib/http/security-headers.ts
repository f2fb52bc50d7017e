// The headers every page and route sends. Scripts run only with this response's nonce (Next
// stamps it on its own scripts); forms may post only to us, and be redirected on to Pipedrive's
// consent page, which the Connect form's POST does.

export type SecurityHeaderOptions = { appUrl: string; oauthBaseUrl: string; nonce: string; development: boolean };

export function securityHeaders(options: SecurityHeaderOptions): Record<string, string> {
  const https = options.appUrl.startsWith("https://");
  const csp = [
    "default-src 'self'",
    // React's development build evaluates code for its debugging aids; production never does.
    `script-src 'self' 'nonce-${options.nonce}' 'strict-dynamic'${options.development ? " 'unsafe-eval'" : ""}`,
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    `form-action 'self' ${new URL(options.oauthBaseUrl).origin}`,
    "frame-ancestors 'none'",
    ...(https ? ["upgrade-insecure-requests"] : []),
  ].join("; ");
  return {
    "Content-Security-Policy": csp,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    ...(https ? { "Strict-Transport-Security": "max-age=63072000; includeSubDomains" } : {}),
  };
}
