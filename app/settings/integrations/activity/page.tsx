// Settings → Integrations → Activity: the workspace's whole Pipedrive trail, newest first, 50 a page.
import type { Metadata } from "next";
import { redirect } from "next/navigation";

import { AppHeader } from "@/app/components/app-header.tsx";
import { ZoneName } from "@/app/components/zone.tsx";
import { requirePageUser } from "@/lib/auth/session.ts";
import { orBusy } from "@/lib/http/busy.ts";
import { loadActivity } from "@/lib/pipedrive/settings-view.ts";
import { ROUTES } from "@/lib/routes.ts";

import { ActivityList } from "../activity.tsx";

export const metadata: Metadata = { title: "Pipedrive activity · Integrations" };

type Props = { searchParams: Promise<Record<string, string | string[] | undefined>> };

export default async function ActivityPage({ searchParams }: Props) {
  const query = await searchParams;
  const before = typeof query.before === "string" ? query.before : null;
  const user = await orBusy(requirePageUser(ROUTES.activity));
  if (user.role !== "admin") redirect(`${ROUTES.settings}?pipedrive=error&reason=activity_admins_only`);
  const { events, older } = await orBusy(loadActivity(user, before));

  return (
    <>
      <AppHeader user={user} />
      <main className="page">
        <p>
          <a href={ROUTES.settings}>← Integrations</a>
        </p>
        <section className="card" aria-labelledby="activity-title">
          <h1 id="activity-title">Pipedrive activity</h1>
          <p className="muted">
            Who connected, reconnected or disconnected Pipedrive, which company, failed and cancelled connects, and what
            Pipedrive or automatic renewal changed. Times are in <ZoneName />.
          </p>
          {events.length > 0 ? <ActivityList events={events} /> : <p>Nothing has happened yet.</p>}
          {(older || before) && (
            <nav className="pager" aria-label="Older and newer activity">
              {before && <a href={ROUTES.activity}>Newest</a>}
              {older && <a href={`${ROUTES.activity}?before=${older}`}>Older →</a>}
            </nav>
          )}
        </section>
      </main>
    </>
  );
}
