import { SubmitButton } from "@/app/components/submit-button.tsx";
import { ROUTES } from "@/lib/routes.ts";

import { inWords } from "../banners.ts";

/** For a member, where only an admin can help: whom to ask, and a button that mails them. */
export function AskAdmins({ admins, what }: { admins: string[]; what: "connect" | "reconnect" }) {
  const label = `Ask an admin to ${what} Pipedrive`;
  return (
    <div className="ask-admins">
      <p>
        {label}
        {admins.length ? `: ${inWords(admins)}.` : "."} The button mails them (once a day).
      </p>
      <form method="post" action={ROUTES.askAdmins}>
        <SubmitButton className="button button-secondary" busyText="Asking…">
          {label}
        </SubmitButton>
      </form>
    </div>
  );
}
