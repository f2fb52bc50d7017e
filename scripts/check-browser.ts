import { chromiumPath } from "../testing/support/chromium";

// The end-to-end suite needs a real Chromium; without one it fails loudly instead of being skipped.
if (!chromiumPath()) {
  const where = process.env.CHROMIUM_PATH ? `at ${process.env.CHROMIUM_PATH}` : "in /usr/bin";
  console.error(
    `No Chromium ${where}. Install Debian's: sudo apt-get update && sudo apt-get install -y chromium-headless-shell\n` +
      `(or chromium, or point CHROMIUM_PATH at another Chromium binary).`,
  );
  process.exit(1);
}
