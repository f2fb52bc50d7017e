// Runs once when the server starts: bad configuration or an unreachable database stops it
// here with a message that names the cause, instead of failing requests later.
export async function register() {
  const { isNodeRuntime, env } = await import("./lib/env.ts");
  if (!isNodeRuntime()) return;
  try {
    env();
    const { checkDatabase } = await import("./lib/db.ts");
    await checkDatabase();
  } catch (error) {
    console.error(`\n${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  }
}
