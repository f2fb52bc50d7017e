import { ROUTES } from "@/lib/routes.ts";

/** An admin's own choice: mail when the connection breaks, recovers, or is uninstalled. */
export function MailPreference({ on }: { on: boolean }) {
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
    </section>
  );
}
