// CSP (with a per-request nonce), HSTS and the framing headers are set in proxy.ts.
const ROUTE_SECURITY_HEADERS = [
  {
    key: "Content-Security-Policy",
    value: "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  },
  { key: "X-Frame-Options", value: "DENY" },
  { key: "X-Content-Type-Options", value: "nosniff" },
];

/** @type {import('next').NextConfig} */
const nextConfig = {
  poweredByHeader: false,
  // `next dev` prints every request's URL: never one that carries an OAuth code or state.
  logging: { incomingRequests: { ignore: [/[?&](code|state)=/i] } },
  serverExternalPackages: [
    "pg",
    "@prisma/adapter-pg",
    "bcryptjs",
    "pino",
    "pino-pretty",
    "thread-stream",
    "pg-boss",
    "rate-limiter-flexible",
    "prom-client",
    "nodemailer",
  ],
  async headers() {
    return [
      // Pages send a referrer only within the site (so forms keep a real Origin); the OAuth
      // routes, whose URLs carry codes and states, send none at all.
      { source: "/((?!api/integrations/pipedrive/).*)", headers: [{ key: "Referrer-Policy", value: "same-origin" }] },
      { source: "/api/integrations/pipedrive/:path*", headers: [{ key: "Referrer-Policy", value: "no-referrer" }] },
      // Routes proxy.ts does not run for: JSON, redirects and the sign-in pause page, none with a script.
      { source: "/api/:path*", headers: ROUTE_SECURITY_HEADERS },
      { source: "/sign-in/submit", headers: ROUTE_SECURITY_HEADERS },
    ];
  },
};

export default nextConfig;
