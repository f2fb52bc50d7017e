import { SubmitButton } from "@/app/components/submit-button.tsx";
import { ROUTES } from "@/lib/routes.ts";

/** Starting a flow writes a state and a cookie, so it is a same-site POST, never a link. */
export function ConnectButton({ label, primary }: { label: string; primary: boolean }) {
  return (
    <form method="post" action={ROUTES.authorize}>
      <SubmitButton
        className={`button ${primary ? "button-primary" : "button-secondary"}`}
        busyText="Opening Pipedrive…"
      >
        {label}
      </SubmitButton>
    </form>
  );
}
