import { randomBytes } from "node:crypto";

import { afterAll, describe, expect, it, vi } from "vitest";

import { signatureOf } from "../../lib/services/event-delivery.ts";
import { startEventReceiver } from "./event-receiver.ts";

// The demo's receiver accepts what the CRM signs for it, prints it, and refuses anything else.

const receiver = await startEventReceiver(0);
afterAll(() => receiver.stop());

const post = (secret: string) => {
  const body = JSON.stringify({
    type: "pipedrive.connection.connected",
    timestamp: new Date().toISOString(),
    data: { tenant_id: "t-1", condition: "connected", company: "Acme" },
  });
  const timestamp = Math.floor(Date.now() / 1000);
  return fetch(receiver.url, {
    method: "POST",
    body,
    headers: {
      "webhook-id": "msg_1",
      "webhook-timestamp": String(timestamp),
      "webhook-signature": signatureOf(secret, "msg_1", timestamp, body),
    },
  });
};

describe("the demo's event receiver", () => {
  it("prints an event signed with its secret, and refuses one signed with another", async () => {
    const printed = vi.spyOn(console, "log").mockImplementation(() => {});
    expect((await post(receiver.secret)).status).toBe(204);
    expect(printed.mock.calls.flat().join("\n")).toMatch(/pipedrive\.connection\.connected.*Acme.*signature verified/);
    expect((await post(`whsec_${randomBytes(32).toString("base64")}`)).status).toBe(400);
    printed.mockRestore();
  });
});
