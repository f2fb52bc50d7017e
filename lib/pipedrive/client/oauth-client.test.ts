import { describe, expect, it } from "vitest";

import { classifyTokenError } from "./oauth-client.ts";

describe("token errors in every documented shape", () => {
  it.each([
    [400, '{"error":"invalid_grant","error_description":"Invalid refresh token"}'],
    [400, '{"success":false,"error":"Invalid grant: refresh_token is invalid","errorCode":400}'],
    [400, "Invalid grant: refresh_token is invalid"],
    [400, "invalid_grant"],
  ])("HTTP %i %s is a dead grant", (status, body) => {
    expect(classifyTokenError(status, body)).toBe("invalid_grant");
  });

  it.each([
    [401, '{"error":"invalid_client","error_description":"Client authentication failed"}'],
    [401, '{"success":false,"error":"Client authentication failed","errorCode":401}'],
    [401, "Client authentication failed"],
    [401, ""],
    [400, '{"error":"invalid_client"}'],
  ])("HTTP %i %s is our own credentials, not the tenant's grant", (status, body) => {
    expect(classifyTokenError(status, body)).toBe("invalid_client");
  });

  it.each([
    [400, '{"error":"invalid_request"}'],
    [400, "Unsupported grant type"],
    [403, "<html>Forbidden</html>"],
  ])("HTTP %i %s is neither", (status, body) => {
    expect(classifyTokenError(status, body)).toBe("other");
  });
});

describe("an explicit OAuth error code wins over any text", () => {
  it.each([
    [
      400,
      { error: "invalid_grant", error_description: "client authentication failed: invalid_client" },
      "invalid_grant",
    ],
    [401, { error: "invalid_grant", message: "invalid client" }, "invalid_grant"],
    [400, { error: "invalid_client", error_description: "Invalid grant: refresh_token is invalid" }, "invalid_client"],
    [400, { error: "invalid_request", error_description: "invalid_client or invalid_grant, who knows" }, "other"],
  ])("HTTP %i %j is %s", (status, body, kind) => {
    expect(classifyTokenError(status, JSON.stringify(body))).toBe(kind);
  });
});
