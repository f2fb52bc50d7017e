import { existsSync } from "node:fs";

// Playwright cannot download a browser here, so the suite drives the system's. Debian's headless
// shell comes first: it ran the whole suite in 198 s where the full browser took 280 s, on the
// same machine in the same hour. The full browser is the fallback, for machines that have only it.
export const DEBIAN_BROWSERS = ["/usr/bin/chromium-headless-shell", "/usr/bin/chromium"];

/** The browser the end-to-end suite launches: `chosen` (CHROMIUM_PATH) when set, else Debian's. */
export function chromiumPath(chosen: string | undefined): string | undefined {
  if (chosen) return existsSync(chosen) ? chosen : undefined;
  return DEBIAN_BROWSERS.find((path) => existsSync(path));
}
