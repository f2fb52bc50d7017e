import { readFileSync } from "node:fs";
import { request } from "node:http";

import { APP_URL, MOCK_URL } from "./support/env.ts";
import { expect, test } from "./support/fixtures.ts";

// What runs with the demo's published passwords, and the mock that stands in for Pipedrive,
// must be reachable from this machine only, and the mock must not be driven by any web page.

/** The local addresses listening on `port`, from the kernel's own tables (IPv4 and IPv6). */
function listeningOn(port: number): string[] {
  const found: string[] = [];
  for (const file of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text = "";
    try {
      text = readFileSync(file, "utf8");
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      const [, local, , state] = line.trim().split(/\s+/);
      if (!local || state !== "0A") continue;
      const [address, hexPort] = local.split(":");
      if (Number.parseInt(hexPort!, 16) === port) found.push(address!);
    }
  }
  return found;
}

test("the app with the demo's seeded users, and the mock, listen on loopback only", () => {
  for (const url of [APP_URL, MOCK_URL]) {
    const addresses = listeningOn(Number(new URL(url).port));
    expect(addresses.length, url).toBeGreaterThan(0);
    // 127.0.0.1, as the kernel writes it; never 0.0.0.0 or the IPv6 any-address.
    for (const address of addresses) expect(address, url).toBe("0100007F");
  }
});

test("the mock's control endpoints refuse what a page on another site can send", async () => {
  const answer = await fetch(`${MOCK_URL}/__mock/uninstall`, {
    method: "POST",
    headers: { "Content-Type": "text/plain", Origin: "https://evil.example" },
    body: JSON.stringify({ callbackUrl: `${APP_URL}/api/integrations/pipedrive/callback` }),
  });
  expect(answer.status).toBe(403);
  // A page on a name rebound to this machine sends its own Host.
  const rebound = await new Promise<number>((resolve, reject) => {
    const { hostname, port } = new URL(MOCK_URL);
    request({ host: hostname, port, path: "/__mock/tokens", headers: { "x-mock-control": "1", Host: "evil.example" } })
      .on("response", (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      })
      .on("error", reject)
      .end();
  });
  expect(rebound).toBe(403);
});
