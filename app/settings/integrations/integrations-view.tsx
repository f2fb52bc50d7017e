// Settings → Integrations: the Pipedrive card, the callback's outcome, and a phone lookup.
import { AppHeader } from "@/app/components/app-header.tsx";
import { conditionsInForce, offersLookup } from "@/lib/pipedrive/conditions.ts";
import { refusalMessage } from "@/lib/pipedrive/lookup/lookup-refusal.ts";
import { regionLabel, searchedAs } from "@/lib/pipedrive/lookup/person-search.ts";
import type { SettingsView } from "@/lib/pipedrive/settings-view.ts";
import { ROUTES } from "@/lib/routes.ts";
import { parseOutcome } from "@/lib/settings-outcomes.ts";
import type { TenantUser } from "@/lib/users/user-store.ts";

import { ActivityList, lastSwitchFrom } from "./activity.tsx";
import { bannerFor } from "./banners.ts";
import { OperatorAlert } from "./card/condition-banners.tsx";
import { MailPreference } from "./card/mail-preference.tsx";
import { OutcomeBanner } from "./card/outcome-banner.tsx";
import { PipedriveCard } from "./card/pipedrive-card.tsx";
import { PhoneLookup } from "./phone-lookup.tsx";

export type Query = Record<string, string | string[] | undefined>;

/** How this deployment looks people up: the region a number without a country code is read in, and a lookup's bound. */
export type LookupSettings = { phoneRegion: string; boundSeconds: number; dailyLimit: number };

/** The page's markup, from what the page read; it reads nothing itself, not even the clock. */
export function IntegrationsView({
  user,
  view,
  query,
  now,
  lookupSettings,
  typed = null,
}: {
  user: TenantUser;
  view: SettingsView;
  query: Query;
  now: Date;
  lookupSettings: LookupSettings;
  /** What was typed into a refused lookup, to put back in the field. */
  typed?: string | null;
}) {
  const { connection, uninstalled, events, keeper, appCredentialsRejectedSince, lookup, mailOn, usage, lookupsToday } =
    view;
  const outcome = parseOutcome(query);
  // A saved mail preference is confirmed beside its checkbox, not in a banner at the top.
  const savedMail = outcome?.result === "mail_on" || outcome?.result === "mail_off" ? bannerFor(outcome) : null;
  const isAdmin = user.role === "admin";
  const conditions = connection ? conditionsInForce({ connection, appCredentialsRejectedSince, keeper, isAdmin }) : [];
  const { phoneRegion, boundSeconds } = lookupSettings;

  return (
    <>
      <AppHeader user={user} />
      <main className="page">
        <h1>Integrations</h1>
        <p className="lede">
          Connect the tools your team already uses. Lead enrichment reads contacts through these connections.
        </p>
        {outcome && !savedMail && (
          <OutcomeBanner
            banner={bannerFor(outcome, {
              connected: connection !== null,
              pipedriveUserName: connection?.pipedriveUserName,
              switchedFrom: lastSwitchFrom(view.events),
              admins: view.admins,
            })}
            canConnect={isAdmin}
          />
        )}
        {appCredentialsRejectedSince && <OperatorAlert since={appCredentialsRejectedSince} isAdmin={isAdmin} />}

        <PipedriveCard
          connection={connection}
          uninstalled={uninstalled}
          conditions={conditions}
          isAdmin={isAdmin}
          usage={usage}
          permissionsAsked={view.permissionsAsked}
          admins={view.admins}
        />

        {(offersLookup(connection) || lookup) && (
          <PhoneLookup
            lookup={lookup}
            refused={refusalMessage(query, now, { dailyLimit: lookupSettings.dailyLimit })}
            context={{
              regionLabel: regionLabel(phoneRegion),
              searchedAs: lookup ? searchedAs(lookup.phone, phoneRegion) : null,
              expired: typeof query.lookup === "string" && lookup === null,
              companyDomain: connection?.companyDomain ?? null,
              connectedUser: { id: connection?.pipedriveUserId ?? null, name: connection?.pipedriveUserName ?? null },
              typed,
              boundSeconds,
              today: lookupsToday,
            }}
          />
        )}

        {mailOn !== null && <MailPreference on={mailOn} saved={savedMail} />}

        {events.length > 0 && (
          <section className="card" aria-labelledby="activity-title">
            <h2 id="activity-title">Recent activity</h2>
            <ActivityList events={events} />
            <p>
              <a href={ROUTES.activity}>Show all activity</a>
            </p>
          </section>
        )}
      </main>
    </>
  );
}

export function lookupSettingsOf(ctx: {
  phoneRegion: string;
  lookupBoundMs: number;
  lookupDailyLimit: number;
}): LookupSettings {
  return { phoneRegion: ctx.phoneRegion, boundSeconds: ctx.lookupBoundMs / 1000, dailyLimit: ctx.lookupDailyLimit };
}
