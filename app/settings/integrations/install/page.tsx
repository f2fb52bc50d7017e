// Settings → Integrations → Install: an install started on Pipedrive's Marketplace waits here
// until the admin sees whose Pipedrive account it is and presses Connect. Nothing is linked before.
import type { Metadata } from "next";
import { cookies } from "next/headers";
import { redirect } from "next/navigation";

import { AppHeader } from "@/app/components/app-header.tsx";
import { requirePageUser } from "@/lib/auth/session.ts";
import { pipedrive } from "@/lib/pipedrive/context.ts";
import { INSTALL_CONFIRM_PATH, INSTALL_COOKIE, pendingInstallFor } from "@/lib/pipedrive/marketplace.ts";
import { SETTINGS_PATH } from "@/lib/pipedrive/outcomes.ts";

export const metadata: Metadata = { title: "Connect Pipedrive? · Integrations" };

const INSTALL = "/api/integrations/pipedrive/install";

export default async function InstallPage() {
  const user = await requirePageUser(INSTALL_CONFIRM_PATH);
  if (user.role !== "admin") redirect(`${SETTINGS_PATH}?pipedrive=error&reason=install_admins_only`);
  const me = await pendingInstallFor(pipedrive(), user, (await cookies()).get(INSTALL_COOKIE)?.value);

  return (
    <>
      <AppHeader user={user} />
      <main className="page">
        {me ? (
          <section className="card" aria-labelledby="install-title">
            <h1 id="install-title">Connect Pipedrive?</h1>
            <p>
              Connect Pipedrive company <strong>{me.company_name}</strong> ({me.name}
              {me.email ? `, ${me.email}` : ""}) to workspace <strong>{user.tenantName}</strong>?
            </p>
            <p className="muted">
              Lead enrichment will look people up in that Pipedrive account, as {me.name}. If this is not the Pipedrive
              account you meant to install, press Cancel: nothing is connected until you press Connect.
            </p>
            <div className="actions">
              <form method="post" action={INSTALL}>
                <input type="hidden" name="decision" value="connect" />
                <button type="submit" className="button button-primary">
                  Connect
                </button>
              </form>
              <form method="post" action={INSTALL}>
                <input type="hidden" name="decision" value="cancel" />
                <button type="submit" className="button button-secondary">
                  Cancel
                </button>
              </form>
            </div>
          </section>
        ) : (
          <section className="card" aria-labelledby="install-title">
            <h1 id="install-title">Nothing to confirm</h1>
            <p>
              This Pipedrive install has expired or was already finished. Start it again from Pipedrive&apos;s
              Marketplace, or connect from the integrations page.
            </p>
            <div className="actions">
              <a href={SETTINGS_PATH} className="button button-secondary">
                Back to integrations
              </a>
            </div>
          </section>
        )}
      </main>
    </>
  );
}
