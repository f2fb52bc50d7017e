// Runs once when the server starts: bad configuration or an unreachable database stops it
// here with a message that names the cause, instead of failing requests later.
export async function register() {
  // NEXT_RUNTIME is a build-time constant, not configuration: Next.js drops the Node-only
  // branch from the Edge bundle only when it sees this literal check.
  if (process.env.NEXT_RUNTIME === "nodejs") {
    const { checkStartup } = await import("./lib/startup.ts");
    await checkStartup();
  }
}
