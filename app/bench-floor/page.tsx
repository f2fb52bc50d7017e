// The benchmark's floor for the settings page: the same reads on the same pool and the same
// markup, without Auth.js and without the proxy. It exists only while BENCH_FLOOR_USER is set,
// which the environment refuses next to an https APP_URL; everywhere else it is a 404.
import { notFound } from "next/navigation";

import { IntegrationsView, lookupSettingsOf, type Query } from "@/app/settings/integrations/integrations-view.tsx";
import { benchFloorUser } from "@/lib/auth/session.ts";
import { pipedrive } from "@/lib/pipedrive/context.ts";
import { loadSettingsView } from "@/lib/pipedrive/settings-view.ts";

export const dynamic = "force-dynamic";

export default async function BenchFloor({ searchParams }: { searchParams: Promise<Query> }) {
  const user = await benchFloorUser();
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
