import { createServer } from "node:net";

import { describe, expect, it } from "vitest";

import { ensureFree } from "./stack.ts";

// The bench never measures a server it did not start: a taken port stops it, by name.

describe("the bench's ports", () => {
  it("are refused, by number, when another server listens on one", async () => {
    const other = createServer();
    await new Promise<void>((resolve) => other.listen(0, "127.0.0.1", resolve));
    const port = (other.address() as { port: number }).port;
    try {
      await expect(ensureFree(port)).rejects.toThrow(`port ${port} is taken`);
    } finally {
      await new Promise((resolve) => other.close(resolve));
    }
    await expect(ensureFree(port)).resolves.toBeUndefined();
  });
});
