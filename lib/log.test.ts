import { Writable } from "node:stream";

import { describe, expect, it } from "vitest";

import { createLogger } from "./log.ts";

function capture() {
  const lines: string[] = [];
  const stream = new Writable({ write: (chunk: Buffer, _encoding, done) => (lines.push(chunk.toString()), done()) });
  return { logger: createLogger({ level: "info", pretty: false }, stream), lines };
}

describe("the logger", () => {
  it("writes one JSON object per line", () => {
    const { logger, lines } = capture();
    logger.info({ tenant: "t-1", outcome: "connected" }, "pipedrive callback");
    expect(JSON.parse(lines[0]!)).toMatchObject({
      level: 30,
      msg: "pipedrive callback",
      tenant: "t-1",
      outcome: "connected",
      service: "crm-pipedrive",
    });
  });

  it("redacts tokens, codes, states, credentials and Authorization, at any of the first three levels", () => {
    const { logger, lines } = capture();
    const secrets = {
      access_token: "at-secret-1",
      refreshToken: "rt-secret-2",
      query: { code: "code-secret-3", state: "state-secret-4" },
      headers: { authorization: "Basic c2VjcmV0LTU=", cookie: "session=secret-6" },
      client: { credentials: { client_secret: "cs-secret-7", password: "pw-secret-8" } },
    };
    logger.info(secrets, "everything at once");
    const line = lines.join("");
    for (const value of [
      "at-secret-1",
      "rt-secret-2",
      "code-secret-3",
      "state-secret-4",
      "c2VjcmV0LTU=",
      "secret-6",
      "cs-secret-7",
      "pw-secret-8",
    ])
      expect(line).not.toContain(value);
    expect(JSON.parse(line)).toMatchObject({
      access_token: "[Redacted]",
      query: { code: "[Redacted]", state: "[Redacted]" },
      headers: { authorization: "[Redacted]" },
    });
  });
});
