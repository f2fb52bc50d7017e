// Settings → Integrations → Install: a grant waits here until the admin sees whose Pipedrive
// account it is, and whose connection it would replace, and presses Connect: an install started
// on Pipedrive's Marketplace, or a Reconnect as another Pipedrive user. Nothing is linked before.
import type { Metadata } from "next";
import { cookies } from "next/headers";
import { redirect } from "next/navigation";

import { AppHeader } from "@/app/components/app-header.tsx";
import { requirePageUser } from "@/lib/auth/session.ts";
import { INSTALL_COOKIE } from "@/lib/pipedrive/connect/marketplace.ts";
import { pipedrive } from "@/lib/pipedrive/context.ts";
import { loadInstallConfirmation } from "@/lib/pipedrive/settings-view.ts";
import { ROUTES } from "@/lib/routes.ts";

export const metadata: Metadata = { title: "Connect Pipedrive? · Integrations" };

const INSTALL = ROUTES.install;

export default async function InstallPage() {
  const user = await requirePageUser(ROUTES.installConfirm);
  if (user.role !== "admin") redirect(`${ROUTES.settings}?pipedrive=error&reason=install_admins_only`);
  const held = await loadInstallConfirmation(pipedrive(), user, (await cookies()).get(INSTALL_COOKIE)?.value);
  const me = held?.me;

  return (
    <>
      <AppHeader user={user} />
      <main className="page">
        {held && me ? (
          <section className="card" aria-labelledby="install-title">
            <h1 id="install-title">{held.replacing ? "Switch Pipedrive user?" : "Connect Pipedrive?"}</h1>
            <p>
              Connect Pipedrive company <strong>{me.company_name}</strong> ({me.name}
              {me.email ? `, ${me.email}` : ""}) to workspace <strong>{user.tenantName}</strong>?
            </p>
            {held.replacing && (
              <div className="banner banner-warn" role="alert">
                <div>
                  <p>
                    <strong>This replaces the current connection</strong>, as {held.replacing.pipedriveUserName} of{" "}
                    {held.replacing.companyName}.
                  </p>
                  <p>
                    {held.replacing.keptForOthers
                      ? `The app stays installed in ${held.replacing.pipedriveUserName}'s Pipedrive account, because another workspace uses it.`
                      : `The app will be uninstalled from ${held.replacing.pipedriveUserName}'s Pipedrive account.`}{" "}
                    Lead enrichment then looks people up as {me.name}.
                  </p>
                </div>
              </div>
            )}
            {held.heldElsewhere ? (
              <div className="banner banner-error" role="alert">
                <p>
                  <strong>That Pipedrive login is already connected to another workspace</strong>, and Pipedrive gives
                  one login one connection. Cancel, then connect with another Pipedrive user, or disconnect it in the
                  other workspace first.
                </p>
              </div>
            ) : (
              <p className="muted">
                Lead enrichment will look people up in that Pipedrive account, as {me.name}. If this is not the
                Pipedrive account you meant, press Cancel: nothing changes until you press Connect.
              </p>
            )}
            <div className="actions">
              {!held.heldElsewhere && (
                <form method="post" action={INSTALL}>
                  <input type="hidden" name="decision" value="connect" />
                  <button type="submit" className="button button-primary">
                    Connect
                  </button>
                </form>
              )}
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
              <a href={ROUTES.settings} className="button button-secondary">
                Back to integrations
              </a>
            </div>
          </section>
        )}
      </main>
    </>
  );
}
