import { ROUTES } from "@/lib/routes.ts";

import type { Banner } from "../banners.ts";

/** An admin's own choice of mail about the connection; once saved, confirmed here, where focus goes. */
export function MailPreference({ on, saved }: { on: boolean; saved: Banner | null }) {
  return (
    <section className="card" aria-labelledby="mail-title">
      <h2 id="mail-title">Mail about this connection</h2>
      <form method="post" action={ROUTES.notifications} className="inline-form">
        <div className="field">
          <label>
            <input type="checkbox" name="mail" value="on" defaultChecked={on} /> Email me when Pipedrive stops working
            or recovers, waits on Pipedrive, or is disconnected, uninstalled or switched to another Pipedrive user
          </label>
        </div>
        <button type="submit" className="button button-secondary">
          Save
        </button>
      </form>
      {saved && (
        <p className="hint saved" role="status" tabIndex={-1} autoFocus>
          Saved: {saved.body.charAt(0).toLowerCase() + saved.body.slice(1)}
        </p>
      )}
    </section>
  );
}
