// Settings → Integrations → Install: a grant waits here until the admin sees whose Pipedrive
// account it is, and whose connection it would replace, and presses Connect: an install started
// on Pipedrive's Marketplace, or a Reconnect as another Pipedrive user. Nothing is linked before.
import type { Metadata } from "next";
import { cookies } from "next/headers";
import { redirect } from "next/navigation";

import { AppHeader } from "@/app/components/app-header.tsx";
import { requirePageUser } from "@/lib/auth/session.ts";
import { orBusy } from "@/lib/http/busy.ts";
import { INSTALL_COOKIE } from "@/lib/pipedrive/connect/marketplace.ts";
import { pipedrive } from "@/lib/pipedrive/context.ts";
import { loadInstallConfirmation } from "@/lib/pipedrive/settings-view.ts";
import { ROUTES } from "@/lib/routes.ts";

const INSTALL = ROUTES.install;

async function load() {
  const user = await orBusy(requirePageUser(ROUTES.installConfirm));
  if (user.role !== "admin") redirect(`${ROUTES.settings}?pipedrive=error&reason=install_admins_only`);
  const held = await orBusy(loadInstallConfirmation(pipedrive(), user, (await cookies()).get(INSTALL_COOKIE)?.value));
  return { user, held };
}

/** The page's one heading, which the tab's title repeats. */
function headingOf(held: Awaited<ReturnType<typeof load>>["held"]): string {
  if (!held) return "Nothing to confirm";
  if (held.heldElsewhere) return `Can't connect ${held.me.name} (${held.me.company_name})`;
  return held.replacing ? "Switch Pipedrive user?" : "Connect Pipedrive?";
}

export async function generateMetadata(): Promise<Metadata> {
  return { title: `${headingOf((await load()).held)} · Integrations` };
}

export default async function InstallPage() {
  const { user, held } = await load();
  const me = held?.me;

  return (
    <>
      <AppHeader user={user} />
      <main className="page">
        {held && me && held.heldElsewhere ? (
          // One refusal: nothing about replacing or uninstalling, since nothing will happen.
          <section className="card" aria-labelledby="install-title">
            <h1 id="install-title">{headingOf(held)}</h1>
            <div className="banner banner-error" role="alert">
              <p>
                <strong>Another workspace uses this Pipedrive login. Nothing changed.</strong> Pipedrive gives one login
                one connection: connect as another Pipedrive user, or disconnect this login in the other workspace
                first.
              </p>
            </div>
            <div className="actions">
              <Decision value="another_user" label="Connect as another Pipedrive user" primary />
              <Decision value="cancel" label="Cancel" />
            </div>
          </section>
        ) : held && me ? (
          <section className="card" aria-labelledby="install-title">
            <h1 id="install-title">{headingOf(held)}</h1>
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
            <p className="muted">
              Lead enrichment will look people up in that Pipedrive account, as {me.name}. If this is not the Pipedrive
              account you meant, press Cancel: nothing changes until you press Connect.
            </p>
            <div className="actions">
              <Decision value="connect" label="Connect" primary />
              <Decision value="cancel" label="Cancel" />
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

/** One of the page's answers: a same-site POST with the decision. */
function Decision({ value, label, primary = false }: { value: string; label: string; primary?: boolean }) {
  return (
    <form method="post" action={INSTALL}>
      <input type="hidden" name="decision" value={value} />
      <button type="submit" className={`button button-${primary ? "primary" : "secondary"}`}>
        {label}
      </button>
    </form>
  );
}
