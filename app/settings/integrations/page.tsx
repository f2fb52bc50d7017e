// Settings → Integrations: the Pipedrive card, the callback's outcome, and a phone lookup.
import type { Metadata } from "next";
import { cookies } from "next/headers";

import { requirePageUser } from "@/lib/auth/session.ts";
import { orBusy } from "@/lib/http/busy.ts";
import { pipedrive } from "@/lib/pipedrive/context.ts";
import { TYPED_COOKIE, typedInput } from "@/lib/pipedrive/lookup/lookup-refusal.ts";
import { loadSettingsView } from "@/lib/pipedrive/settings-view.ts";
import { ROUTES } from "@/lib/routes.ts";
import { parseOutcome } from "@/lib/settings-outcomes.ts";
import { ZONE_COOKIE } from "@/lib/time-zone.ts";
import { noteReaderZone } from "@/lib/users/reader-zone.ts";

import { bannerFor } from "./banners.ts";
import { IntegrationsView, lookupSettingsOf, type Query } from "./integrations-view.tsx";

/** The tab title carries a flow's outcome, so it is heard and seen after every redirect. */
export async function generateMetadata({ searchParams }: Props): Promise<Metadata> {
  const outcome = parseOutcome(await searchParams);
  return { title: outcome ? `${bannerFor(outcome).title} · Integrations` : "Integrations" };
}

type Props = { searchParams: Promise<Query> };

export default async function IntegrationsPage({ searchParams }: Props) {
  const query = await searchParams;
  const returnQuery = new URLSearchParams(
    Object.entries(query).filter((entry): entry is [string, string] => typeof entry[1] === "string"),
  );
  const user = await orBusy(requirePageUser(`${ROUTES.settings}?${returnQuery}`));
  const view = await orBusy(
    loadSettingsView(pipedrive(), user, typeof query.lookup === "string" ? query.lookup : null),
  );
  const jar = await cookies();
  const typed = typedInput(query, jar.get(TYPED_COOKIE)?.value);
  // The reader's zone, for the times in their mails.
  noteReaderZone(user, jar.get(ZONE_COOKIE)?.value);
  return (
    <IntegrationsView
      user={user}
      view={view}
      query={query}
      now={new Date()}
      lookupSettings={lookupSettingsOf(pipedrive())}
      typed={typed}
    />
  );
}
