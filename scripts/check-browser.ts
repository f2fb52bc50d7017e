import { existsSync } from "node:fs";

// The end-to-end suite needs a real Chromium. Playwright cannot download one here, so it uses
// the system's; without it the suite fails loudly instead of being skipped.
const chromium = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
if (!existsSync(chromium)) {
  console.error(
    `No Chromium at ${chromium}. Install Debian's: sudo apt-get update && sudo apt-get install -y chromium\n` +
      `(or point CHROMIUM_PATH at another Chromium binary).`,
  );
  process.exit(1);
}
