// The benchmark's floor for the settings page: the same reads on the same pool and the same
// markup, without Auth.js and without the proxy. Only `npm run bench`'s own build has this route
// (bench/floor-app); it renders for the user in BENCH_FLOOR_USER ("userId:tenantId:version"),
// re-read by the same query as a session's user, and never beside an https APP_URL.
import { notFound } from "next/navigation";

import { IntegrationsView, lookupSettingsOf, type Query } from "@/app/settings/integrations/integrations-view.tsx";
import { env } from "@/lib/env.ts";
import { pipedrive } from "@/lib/pipedrive/context.ts";
import { loadSettingsView } from "@/lib/pipedrive/settings-view.ts";
import { findUserInTenant } from "@/lib/users/user-store.ts";

export const dynamic = "force-dynamic";

const FLOOR_USER = /^([0-9a-f-]{36}):([0-9a-f-]{36}):(\d+)$/;

export default async function BenchFloor({ searchParams }: { searchParams: Promise<Query> }) {
  const floor = FLOOR_USER.exec(process.env.BENCH_FLOOR_USER ?? "");
  if (!floor || env().APP_URL.startsWith("https://")) notFound();
  const user = await findUserInTenant(floor[1]!, floor[2]!, Number(floor[3]));
  if (!user) notFound();
  const query = await searchParams;
  const view = await loadSettingsView(pipedrive(), user, typeof query.lookup === "string" ? query.lookup : null);
  return (
    <IntegrationsView
      user={user}
      view={view}
      query={query}
      now={new Date()}
      lookupSettings={lookupSettingsOf(pipedrive())}
    />
  );
}
