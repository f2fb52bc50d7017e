import path from "node:path";

import app from "../../next.config.mjs";

// A Next app of the bench's own (`npm run bench`, scenario 4): one route, /bench-floor, that makes
// the settings page's reads and renders its markup without Auth.js and without the proxy. It
// builds from the repository's root, so it compiles the same modules the app ships.
/** @type {import('next').NextConfig} */
const floor = {
  serverExternalPackages: app.serverExternalPackages,
  turbopack: { root: path.join(import.meta.dirname, "..", "..") },
};

export default floor;
