import { describe, expect, it } from "vitest";

import { addressGroup, clientAddress, parseTrustedProxies } from "./client-address.ts";

describe("clientAddress", () => {
  it("with no trusted proxy, is the socket's address whatever X-Forwarded-For says", () => {
    expect(clientAddress({ forwardedFor: "203.0.113.9", socketAddress: "198.51.100.1", trustedProxies: 0 })).toBe(
      "198.51.100.1",
    );
    expect(clientAddress({ forwardedFor: undefined, socketAddress: "::ffff:127.0.0.1", trustedProxies: 0 })).toBe(
      "127.0.0.1",
    );
  });

  it("behind N proxies, is the entry the outermost one appended, not what the client wrote before it", () => {
    const forwardedFor = "10.9.9.9, 203.0.113.7, 192.0.2.10";
    // Client -> proxy A (appends 203.0.113.7) -> proxy B (appends 192.0.2.10) -> us.
    expect(clientAddress({ forwardedFor, socketAddress: "192.0.2.20", trustedProxies: 2 })).toBe("203.0.113.7");
    expect(clientAddress({ forwardedFor, socketAddress: "192.0.2.20", trustedProxies: 1 })).toBe("192.0.2.10");
  });

  it("with more trusted proxies than hops, takes the farthest hop there is", () => {
    expect(clientAddress({ forwardedFor: "203.0.113.7", socketAddress: "192.0.2.20", trustedProxies: 5 })).toBe(
      "203.0.113.7",
    );
  });
});

describe("addressGroup", () => {
  it("groups IPv6 by /64, so one host cannot rotate through its block", () => {
    expect(addressGroup("2001:db8:1:2:aaaa::1")).toBe("2001:db8:1:2::/64");
    expect(addressGroup("2001:0db8:0001:0002:ffff:ffff:ffff:ffff")).toBe("2001:db8:1:2::/64");
    expect(addressGroup("[2001:db8::5]:443")).toBe("2001:db8:0:0::/64");
    expect(addressGroup("::1")).toBe("0:0:0:0::/64");
  });

  it("keeps IPv4 and calls anything else unknown", () => {
    expect(addressGroup("203.0.113.7")).toBe("203.0.113.7");
    expect(addressGroup("not an address")).toBe("unknown");
    expect(addressGroup("")).toBe("unknown");
  });
});

describe("parseTrustedProxies", () => {
  it("defaults to none and refuses anything but a small whole number", () => {
    expect(parseTrustedProxies(undefined)).toBe(0);
    expect(parseTrustedProxies("2")).toBe(2);
    expect(() => parseTrustedProxies("-1")).toThrow(/TRUSTED_PROXIES/);
    expect(() => parseTrustedProxies("yes")).toThrow(/TRUSTED_PROXIES/);
  });
});
