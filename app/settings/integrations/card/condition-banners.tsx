import { SubmitButton } from "@/app/components/submit-button.tsx";
import { When } from "@/app/components/when.tsx";
import { USAGE_HINT } from "@/lib/errors.ts";
import { ENTITY_LIMIT_CAUSE, grantGoneWords, refusedPermissionOf, type Condition } from "@/lib/pipedrive/conditions.ts";
import { REFRESH_TOKEN_IDLE_DAYS, type pausesLookups } from "@/lib/pipedrive/connection/lifecycle.ts";
import type { ConnectionView } from "@/lib/pipedrive/settings-view-store.ts";
import { ROUTES } from "@/lib/routes.ts";

import { ConnectButton } from "./connect-button.tsx";
import { WarnBanner } from "./warn-banner.tsx";

/** Pipedrive refuses the CRM's own app credentials: nobody in the workspace can fix it, and admins are told why. */
export function OperatorAlert({ since, isAdmin }: { since: Date; isAdmin: boolean }) {
  if (!isAdmin) {
    return (
      <div className="banner banner-error operator-alert" role="alert">
        <div>
          <p className="banner-title">Lookups are unavailable</p>
          <p>Pipedrive is refusing the CRM right now. The CRM&apos;s operators have been told.</p>
        </div>
      </div>
    );
  }
  return (
    <div className="banner banner-error operator-alert" role="alert">
      <div>
        <p className="banner-title">Pipedrive rejects this app&apos;s credentials</p>
        <p>
          Since <When date={since} />, Pipedrive refuses the credentials this CRM&apos;s Pipedrive app uses. This is not
          your workspace&apos;s doing and reconnecting will not help: whoever runs this CRM has to update its Pipedrive
          app credentials. Lookups and renewals fail until then.
        </p>
      </div>
    </div>
  );
}

/**
 * One banner for each condition in force, worst first, each with its fix (`fix`: this admin can
 * Reconnect here). An operator problem is the page's, above the card (OperatorAlert).
 */
export function ConditionBanners({
  connection,
  conditions,
  isAdmin,
  fix,
}: {
  connection: ConnectionView;
  conditions: Condition[];
  isAdmin: boolean;
  fix: boolean;
}) {
  return (
    <>
      {conditions.map((condition) => (
        <ConditionBanner
          key={condition.kind}
          condition={condition}
          connection={connection}
          isAdmin={isAdmin}
          fix={fix}
        />
      ))}
    </>
  );
}

function ConditionBanner({
  condition,
  connection,
  isAdmin,
  fix,
}: {
  condition: Condition;
  connection: ConnectionView;
  isAdmin: boolean;
  fix: boolean;
}) {
  switch (condition.kind) {
    case "needs_reconnect":
      return (
        <WarnBanner title="Pipedrive needs to be reconnected">
          <p>{grantGoneWords(connection)}</p>
          <p>Lookups are paused until an admin presses Reconnect and allows access again in Pipedrive.</p>
          {fix && <ConnectButton label="Reconnect" primary />}
        </WarnBanner>
      );
    case "host_unrecognised":
      return (
        <WarnBanner title="Pipedrive address not recognised">
          <p>
            The stored address is not a Pipedrive host, so we send nothing to it and lookups are paused. Reconnect to
            store the right address.
          </p>
          {fix && <ConnectButton label="Reconnect" primary />}
        </WarnBanner>
      );
    case "needs_permissions":
    case "subscription_lapsed":
    case "access_forbidden":
      return <RefusedBanner kind={condition.kind} connection={connection} fix={fix} isAdmin={isAdmin} />;
    case "paused":
      return (
        <WarnBanner title="Lookups paused by Pipedrive">
          <p>
            Pipedrive&apos;s request limit for this company is used up. Lookups resume at{" "}
            <When date={condition.until} />. Reconnecting does not lift Pipedrive&apos;s limit.
          </p>
          {isAdmin && <p>{USAGE_HINT}</p>}
          {isAdmin && <CheckNow />}
        </WarnBanner>
      );
    case "renewal_delayed":
      return (
        <WarnBanner title="Automatic renewal is not running">
          <p>
            {condition.lastRan ? (
              <>
                It last ran <When date={condition.lastRan} />.
              </>
            ) : (
              "It has not run yet."
            )}{" "}
            Lookups still renew access when they need it, but a connection left unused for {REFRESH_TOKEN_IDLE_DAYS}{" "}
            days stops working. Tell whoever runs this CRM to start the renewal worker.
          </p>
        </WarnBanner>
      );
    default:
      return null;
  }
}

/** Pipedrive's own pages for a 403's two causes (docs/pipedrive-api.md). */
const PERMISSION_SETS_DOC = "https://support.pipedrive.com/en/article/permission-sets";
const STATUS_CODES_DOC = "https://pipedrive.readme.io/docs/core-api-concepts-http-status-codes";

/** An admin's one look at Pipedrive, where only its answer can end a pause (once a minute). */
function CheckNow() {
  return (
    <form method="post" action={ROUTES.checkNow} className="check-now">
      <SubmitButton className="button button-secondary" busyText="Checking…">
        Check now
      </SubmitButton>
    </form>
  );
}

/** Why lookups are paused when Pipedrive's answers, not our access, stop them. */
function RefusedBanner({
  kind,
  connection,
  fix,
  isAdmin,
}: {
  kind: NonNullable<ReturnType<typeof pausesLookups>>;
  connection: ConnectionView;
  fix: boolean;
  isAdmin: boolean;
}) {
  const since = connection.lastErrorAt ? (
    <>
      Since <When date={connection.lastErrorAt} />,{" "}
    </>
  ) : null;
  if (kind === "needs_permissions") {
    return (
      <WarnBanner title="Pipedrive needs to grant a permission">
        <p>
          Lookups need permission to {connection.missingPermissions.join(" and ") || "read contacts"}, which the access
          granted in Pipedrive does not include, so they are paused.{" "}
          {fix
            ? "Press Reconnect and allow all the permissions Pipedrive asks for."
            : "An admin of this workspace needs to reconnect Pipedrive and allow all the permissions it asks for."}
        </p>
        {fix && <ConnectButton label="Reconnect" primary />}
      </WarnBanner>
    );
  }
  if (kind === "subscription_lapsed") {
    return (
      <WarnBanner title="Pipedrive subscription not active">
        <p>
          {since}Pipedrive refuses lookups because this company&apos;s Pipedrive subscription is not active. A Pipedrive
          admin of the company can renew the subscription in Pipedrive; lookups resume on their own once it is active
          again (we check every hour).
        </p>
        {isAdmin && <CheckNow />}
      </WarnBanner>
    );
  }
  return (
    <WarnBanner title="The Pipedrive user lacks a permission">
      <p>
        {since}Pipedrive refuses {connection.pipedriveUserName ?? "the connected Pipedrive user"} permission to{" "}
        {refusedPermissionOf(connection.refusedCall)}, so lookups are paused. Pipedrive gives one answer for two causes;
        a Pipedrive admin of the company can check both:
      </p>
      <ul className="checklist" aria-label="What Pipedrive's refusal can mean">
        <li>
          The user&apos;s permission set does not allow it: give the user a permission set that does (
          <a href={PERMISSION_SETS_DOC}>Pipedrive&apos;s permission sets</a>).
        </li>
        <li>
          {ENTITY_LIMIT_CAUSE} (<a href={STATUS_CODES_DOC}>Pipedrive&apos;s answers</a>)
        </li>
      </ul>
      <p>
        Lookups resume on their own once Pipedrive allows the call (we check every hour), or an admin here can reconnect
        as another Pipedrive user.
      </p>
      {isAdmin && <CheckNow />}
      {fix && <ConnectButton label="Reconnect as another Pipedrive user" primary={false} />}
    </WarnBanner>
  );
}
