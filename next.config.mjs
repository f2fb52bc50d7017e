// CSP (with a per-request nonce), HSTS and the framing headers are set in proxy.ts.
/** @type {import('next').NextConfig} */
const nextConfig = {
  poweredByHeader: false,
  serverExternalPackages: [
    "pg",
    "@prisma/adapter-pg",
    "bcryptjs",
    "pino",
    "pino-pretty",
    "thread-stream",
    "pg-boss",
    "rate-limiter-flexible",
  ],
  async headers() {
    return [
      // Pages send a referrer only within the site (so forms keep a real Origin); the OAuth
      // routes, whose URLs carry codes and states, send none at all.
      { source: "/((?!api/integrations/pipedrive/).*)", headers: [{ key: "Referrer-Policy", value: "same-origin" }] },
      { source: "/api/integrations/pipedrive/:path*", headers: [{ key: "Referrer-Policy", value: "no-referrer" }] },
    ];
  },
};

export default nextConfig;
