// Settings → Integrations → Disconnect: says what disconnecting does, then asks. No script needed.
import type { Metadata } from "next";
import { redirect } from "next/navigation";

import { AppHeader } from "@/app/components/app-header.tsx";
import { requirePageUser } from "@/lib/auth/session.ts";
import { orBusy } from "@/lib/http/busy.ts";
import { pipedrive } from "@/lib/pipedrive/context.ts";
import { loadDisconnectView } from "@/lib/pipedrive/settings-view.ts";
import { ROUTES } from "@/lib/routes.ts";

export const metadata: Metadata = { title: "Disconnect Pipedrive? · Integrations" };

export default async function DisconnectPage() {
  const user = await orBusy(requirePageUser(`${ROUTES.settings}/disconnect`));
  if (user.role !== "admin") redirect(`${ROUTES.settings}?pipedrive=error&reason=forbidden`);
  const { connection, installShared } = await orBusy(loadDisconnectView(pipedrive(), user));
  if (!connection) redirect(`${ROUTES.settings}?pipedrive=nothing_to_disconnect`);
  const who = connection.pipedriveUserName ?? "the connected Pipedrive user";
  const company = connection.companyName ?? "the Pipedrive company";

  return (
    <>
      <AppHeader user={user} />
      <main className="page">
        <section className="card" aria-labelledby="disconnect-title">
          <h1 id="disconnect-title">Disconnect Pipedrive?</h1>
          <ul className="consequences">
            <li>
              Lead enrichment stops for the whole <strong>{user.tenantName}</strong> workspace: nobody here can look up
              people by phone in Pipedrive any more.
            </li>
            <li>
              {installShared ? (
                <>
                  In Pipedrive, the app stays installed for {who} in {company}, because another workspace still uses
                  that Pipedrive login.
                </>
              ) : (
                <>
                  In Pipedrive, the app is removed from {who}&apos;s account in {company}, as Pipedrive does whenever an
                  app&apos;s access is revoked.
                </>
              )}
            </li>
            <li>To undo it, an admin must connect Pipedrive again and allow access there.</li>
          </ul>
          <div className="actions">
            <form method="post" action={ROUTES.disconnect}>
              <button type="submit" className="button button-danger">
                Disconnect Pipedrive
              </button>
            </form>
            <a href={ROUTES.settings} className="button button-secondary">
              Keep the connection
            </a>
          </div>
        </section>
      </main>
    </>
  );
}
