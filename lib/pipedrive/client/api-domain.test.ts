import { describe, expect, it } from "vitest";

import { allowedApiHost, apiBaseUrl, toBareHost } from "./api-domain.ts";

const prod = { mockHost: null };
const local = { mockHost: "localhost:4010" };

describe("api_domain", () => {
  it("accepts Pipedrive company hosts and stores them bare", () => {
    expect(allowedApiHost("https://acme.pipedrive.com", prod)).toBe("acme.pipedrive.com");
    expect(allowedApiHost("https://acme.pipedrive.com/", prod)).toBe("acme.pipedrive.com");
    expect(allowedApiHost("acme.pipedrive.com", prod)).toBe("acme.pipedrive.com");
  });

  it.each([
    "https://evil.example",
    "https://pipedrive.com.evil.example",
    "https://evilpipedrive.com",
    "http://acme.pipedrive.com",
    "https://acme.pipedrive.com:8443",
    "https://user:pw@acme.pipedrive.com",
    "https://acme.pipedrive.com/api",
    "https://acme.pipedrive.com?x=1",
    "http://localhost:4010",
    "not a url",
  ])("refuses %s in production", (value) => {
    expect(allowedApiHost(value, prod)).toBeNull();
  });

  it("accepts only the configured mock host locally", () => {
    expect(allowedApiHost("http://localhost:4010", local)).toBe("localhost:4010");
    expect(allowedApiHost("http://localhost:4011", local)).toBeNull();
  });

  it("reads rows written with a scheme, and builds https URLs except for the mock", () => {
    expect(toBareHost("https://acme.pipedrive.com/")).toBe("acme.pipedrive.com");
    expect(toBareHost("acme.pipedrive.com")).toBe("acme.pipedrive.com");
    expect(apiBaseUrl("https://acme.pipedrive.com", prod)).toBe("https://acme.pipedrive.com");
    expect(apiBaseUrl("localhost:4010", local)).toBe("http://localhost:4010");
    expect(apiBaseUrl("localhost:4010", prod)).toBe("https://localhost:4010");
  });
});
