import { chromiumPath, DEBIAN_BROWSERS } from "../testing/support/chromium";

// The end-to-end suite needs a real Chromium; without one it fails loudly instead of being skipped.
const chosen = process.env.CHROMIUM_PATH;
if (!chromiumPath(chosen)) {
  console.error(
    `No Chromium at ${chosen || DEBIAN_BROWSERS.join(" or ")}. Install Debian's: ` +
      `sudo apt-get update && sudo apt-get install -y chromium-headless-shell\n` +
      `(or chromium, or point CHROMIUM_PATH at another Chromium binary).`,
  );
  process.exit(1);
}
