import type { NextConfig } from "next";
import { describe, expect, it } from "vitest";

const configPath: string = "../../next.config.mjs";
const { default: nextConfig } = (await import(configPath)) as { default: NextConfig };

// `next dev` logs each request's URL unless next.config.mjs says to ignore it.
const ignored = (url: string) =>
  (nextConfig.logging as { incomingRequests: { ignore: RegExp[] } }).incomingRequests.ignore.some((p) => p.test(url));

describe("the dev server's request log", () => {
  it.each([
    "/api/integrations/pipedrive/callback?code=abc123&state=xyz",
    "/api/integrations/pipedrive/callback?state=xyz&code=abc123",
    "/api/integrations/pipedrive/callback?error=user_denied&state=xyz",
    "/api/integrations/pipedrive/callback?CODE=abc",
  ])("never prints %s", (url) => {
    expect(ignored(url)).toBe(true);
  });

  it.each(["/settings/integrations?pipedrive=connected", "/sign-in?callbackUrl=%2Fsettings"])(
    "still prints %s",
    (url) => {
      expect(ignored(url)).toBe(false);
    },
  );
});
