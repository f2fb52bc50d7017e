import { describe, expect, it } from "vitest";

import { securityHeaders } from "./security-headers.ts";

const base = {
  appUrl: "http://localhost:3000",
  oauthBaseUrl: "https://oauth.pipedrive.com",
  nonce: "bm9uY2U=",
  development: false,
};

describe("security headers", () => {
  it("allow only scripts carrying this response's nonce, never inline or eval in production", () => {
    const csp = securityHeaders(base)["Content-Security-Policy"]!;
    expect(csp).toContain("script-src 'self' 'nonce-bm9uY2U=' 'strict-dynamic'");
    expect(csp).not.toMatch(/script-src[^;]*'unsafe-(inline|eval)'/);
    expect(csp).toContain("object-src 'none'");
    expect(csp).toContain("frame-ancestors 'none'");
  });

  it("let forms post only to us, and on to Pipedrive's consent page", () => {
    expect(securityHeaders(base)["Content-Security-Policy"]).toContain(
      "form-action 'self' https://oauth.pipedrive.com;",
    );
    expect(securityHeaders({ ...base, oauthBaseUrl: "http://localhost:4010" })["Content-Security-Policy"]).toContain(
      "form-action 'self' http://localhost:4010;",
    );
  });

  it("send HSTS only when the app is served over https", () => {
    expect(securityHeaders(base)).not.toHaveProperty("Strict-Transport-Security");
    const secure = securityHeaders({ ...base, appUrl: "https://crm.example" });
    expect(secure["Strict-Transport-Security"]).toBe("max-age=63072000; includeSubDomains");
    expect(secure["Content-Security-Policy"]).toContain("upgrade-insecure-requests");
  });
});
