// Where a page's reader lands when the database was too busy to render it: a 503 with
// Retry-After, and the way back to the settings page.
import { busyAnswer } from "@/lib/http/busy.ts";
import { ROUTES } from "@/lib/routes.ts";

export const dynamic = "force-dynamic";

export function GET(): Response {
  return busyAnswer(ROUTES.settings);
}
