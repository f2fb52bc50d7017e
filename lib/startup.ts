import { checkDatabase } from "./db.ts";
import { env } from "./env.ts";

export async function checkStartup(): Promise<void> {
  try {
    env();
    await checkDatabase();
  } catch (error) {
    console.error(`\n${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  }
}
