import { describe, expect, it } from "vitest";

import { messageFor } from "./messages.ts";

describe("mail to admins", () => {
  it("says to renew the subscription in Pipedrive, as the page does", () => {
    const { text } = messageFor("subscription_lapsed", "Demo", "http://x/settings", new Date());
    expect(text).toContain("renew the subscription in Pipedrive");
  });
});
