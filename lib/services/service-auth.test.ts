import { describe, expect, it } from "vitest";

import { parseEnv } from "../env.ts";
import { serviceOf } from "./service-auth.ts";

const key = "k".repeat(40);
const other = "o".repeat(40);
/** The settings every deployment has; each test adds what it is about. */
const base = {
  DATABASE_URL: "postgresql://u:p@localhost/db",
  AUTH_SECRET: "a".repeat(32),
  APP_URL: "http://localhost:3000",
  PIPEDRIVE_CLIENT_ID: "id",
  PIPEDRIVE_CLIENT_SECRET: "secret",
};

const keys = [
  { name: "enrichment", key },
  { name: "billing", key: other },
];

describe("a service's key", () => {
  it("names the service that presents it, and nobody for anything else", () => {
    expect(serviceOf(`Bearer ${key}`, keys)).toBe("enrichment");
    expect(serviceOf(`Bearer ${other}`, keys)).toBe("billing");
    for (const wrong of [null, "", "Bearer ", `bearer ${key}`, `Bearer ${key}x`, `Basic ${key}`, `Bearer ${key} `])
      expect(serviceOf(wrong, keys), String(wrong)).toBeNull();
    expect(serviceOf(`Bearer ${key}`, [])).toBeNull();
  });

  it("is configured as name=key pairs, each key at least 32 characters, each name once", () => {
    expect(parseEnv({ ...base, SERVICE_API_KEYS: `enrichment=${key}, billing=${other}` }).SERVICE_API_KEYS).toEqual(
      keys,
    );
    expect(parseEnv(base).SERVICE_API_KEYS).toEqual([]);
    for (const bad of [`enrichment=short`, `enrichment=${key},enrichment=${other}`, `=${key}`, key])
      expect(() => parseEnv({ ...base, SERVICE_API_KEYS: bad }), bad).toThrow(/SERVICE_API_KEYS/);
  });
});

describe("event subscribers", () => {
  const secret = `whsec_${Buffer.from("x".repeat(32)).toString("base64")}`;

  it("need a signing secret, and https unless the receiver is on this machine", () => {
    expect(
      parseEnv({ ...base, EVENT_WEBHOOK_URL: "https://hooks.example.com/crm", EVENT_WEBHOOK_SECRET: secret }),
    ).toMatchObject({ EVENT_WEBHOOK_SECRET: [secret] });
    expect(
      parseEnv({ ...base, EVENT_WEBHOOK_URL: "http://127.0.0.1:4020/", EVENT_WEBHOOK_SECRET: secret }),
    ).toBeTruthy();
    expect(() =>
      parseEnv({ ...base, EVENT_WEBHOOK_URL: "http://hooks.example.com/crm", EVENT_WEBHOOK_SECRET: secret }),
    ).toThrow(/EVENT_WEBHOOK_URL/);
    expect(() => parseEnv({ ...base, EVENT_WEBHOOK_URL: "https://hooks.example.com/crm" })).toThrow(
      /EVENT_WEBHOOK_SECRET/,
    );
    for (const bad of ["plain", "whsec_short", `${secret},${secret},${secret}`])
      expect(
        () => parseEnv({ ...base, EVENT_WEBHOOK_URL: "https://h.example/", EVENT_WEBHOOK_SECRET: bad }),
        bad,
      ).toThrow(/EVENT_WEBHOOK_SECRET/);
  });

  it("may be several, each named, with its secrets in a variable of its own", () => {
    const other = `whsec_${Buffer.from("y".repeat(32)).toString("base64")}`;
    const settings = parseEnv({
      ...base,
      EVENT_WEBHOOK_URL: "https://hooks.example.com/crm",
      EVENT_WEBHOOK_SECRET: secret,
      EVENT_SUBSCRIBERS: "billing=https://billing.example.com/in, audit-log=http://127.0.0.1:4021/",
      EVENT_SECRET_BILLING: other,
      EVENT_SECRET_AUDIT_LOG: `${secret},${other}`,
    });
    expect(settings.eventSubscribers).toEqual([
      { name: "default", url: "https://hooks.example.com/crm", secrets: [secret] },
      { name: "billing", url: "https://billing.example.com/in", secrets: [other] },
      { name: "audit-log", url: "http://127.0.0.1:4021/", secrets: [secret, other] },
    ]);
    expect(JSON.stringify(settings)).not.toContain("EVENT_SECRETS");
    expect(parseEnv(base).eventSubscribers).toEqual([]);

    const refused: [Record<string, string>, RegExp][] = [
      [{ EVENT_SUBSCRIBERS: "billing=https://billing.example.com/in" }, /EVENT_SECRET_BILLING: is not set/],
      [{ EVENT_SUBSCRIBERS: "billing=https://b.example/", EVENT_SECRET_BILLING: "plain" }, /EVENT_SECRET_BILLING/],
      [{ EVENT_SUBSCRIBERS: "billing=http://b.example/", EVENT_SECRET_BILLING: other }, /EVENT_SUBSCRIBERS.*https/],
      [{ EVENT_SUBSCRIBERS: "default=https://b.example/", EVENT_SECRET_DEFAULT: other }, /EVENT_SUBSCRIBERS/],
      [{ EVENT_SUBSCRIBERS: "a=https://a.example/,a=https://b.example/", EVENT_SECRET_A: other }, /EVENT_SUBSCRIBERS/],
      [{ EVENT_SUBSCRIBERS: "Billing Team=https://b.example/" }, /EVENT_SUBSCRIBERS/],
    ];
    for (const [settings, problem] of refused)
      expect(() => parseEnv({ ...base, ...settings }), JSON.stringify(settings)).toThrow(problem);
  });

  it("tell the operators named in OPERATOR_EMAILS", () => {
    expect(parseEnv({ ...base, OPERATOR_EMAILS: "ops@crm.example, oncall@crm.example" }).OPERATOR_EMAILS).toEqual([
      "ops@crm.example",
      "oncall@crm.example",
    ]);
    expect(() => parseEnv({ ...base, OPERATOR_EMAILS: "not an address" })).toThrow(/OPERATOR_EMAILS/);
  });
});
