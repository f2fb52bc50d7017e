// Headers that hold for every response: no framing (clickjacking), no MIME sniffing.
const securityHeaders = [
  { key: "X-Frame-Options", value: "DENY" },
  { key: "Content-Security-Policy", value: "frame-ancestors 'none'; base-uri 'self'; form-action 'self' http: https:; object-src 'none'" },
  { key: "X-Content-Type-Options", value: "nosniff" },
];

/** @type {import('next').NextConfig} */
const nextConfig = {
  poweredByHeader: false,
  serverExternalPackages: ["pg", "@prisma/adapter-pg", "bcryptjs"],
  async headers() {
    return [
      { source: "/:path*", headers: securityHeaders },
      // Pages send a referrer only within the site (so forms keep a real Origin); the OAuth
      // routes, whose URLs carry codes and states, send none at all.
      { source: "/((?!api/integrations/pipedrive/).*)", headers: [{ key: "Referrer-Policy", value: "same-origin" }] },
      { source: "/api/integrations/pipedrive/:path*", headers: [{ key: "Referrer-Policy", value: "no-referrer" }] },
    ];
  },
};

export default nextConfig;
