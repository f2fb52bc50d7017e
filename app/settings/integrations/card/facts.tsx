import { When } from "@/app/components/when.tsx";
import { DAILY_BUDGET_FLOOR, RATE_LIMITS_DOC } from "@/lib/pipedrive/client/api-costs.ts";
import type { Condition } from "@/lib/pipedrive/conditions.ts";
import type { UsageToday } from "@/lib/pipedrive/lookup/usage-store.ts";
import type { ConnectionView } from "@/lib/pipedrive/settings-view-store.ts";

/** What the card knows of a connection: whose it is, how its access goes, and the day's budget. */
export function Facts({
  connection,
  conditions,
  isAdmin,
  usage,
}: {
  connection: ConnectionView;
  conditions: Condition[];
  isAdmin: boolean;
  usage: UsageToday | null;
}) {
  const condition = conditions[0] ?? null;
  return (
    <dl className="facts">
      <dt>Company</dt>
      <dd>{connection.companyName ?? "Unknown"}</dd>
      <dt>Pipedrive domain</dt>
      <dd>{connection.companyDomain ? `${connection.companyDomain}.pipedrive.com` : connection.apiHost}</dd>
      <dt>Pipedrive user</dt>
      <dd>{connection.pipedriveUserName ?? "Unknown"}</dd>
      <dt>Connected by</dt>
      <dd>
        {connection.connectedByName ?? "Unknown"}
        {connection.connectedAt && (
          <>
            , <When date={connection.connectedAt} />
          </>
        )}
      </dd>
      {conditions.some((c) => c.kind === "needs_reconnect") ? (
        <>
          <dt>Stopped working</dt>
          <dd>{connection.lastErrorAt ? <When date={connection.lastErrorAt} /> : "Unknown"}</dd>
        </>
      ) : (
        <>
          <dt>Access</dt>
          <dd>
            <Access connection={connection} condition={condition} isAdmin={isAdmin} />
          </dd>
        </>
      )}
      <dt>Last used</dt>
      <dd>{connection.lastUsedAt ? <When date={connection.lastUsedAt} /> : "Not yet"}</dd>
      <dt>Permissions</dt>
      <dd>{connection.permissions.length ? connection.permissions.join("; ") : "—"}</dd>
      {usage && isAdmin && (
        <>
          <dt>Pipedrive budget today</dt>
          <dd>
            <p>
              This CRM: {usage.lookups} {usage.lookups === 1 ? "lookup" : "lookups"} today, about{" "}
              {usage.apiTokens.toLocaleString("en")} Pipedrive API tokens.
            </p>
            <meter
              className="budget"
              min={0}
              max={DAILY_BUDGET_FLOOR}
              high={DAILY_BUDGET_FLOOR * 0.75}
              value={Math.min(usage.apiTokens, DAILY_BUDGET_FLOOR)}
              aria-label="This CRM's share of the company's daily Pipedrive limit"
            />
            <p className="hint">
              The company&apos;s other Pipedrive apps share its limit of at least{" "}
              {DAILY_BUDGET_FLOOR.toLocaleString("en")} tokens a day, reset at midnight (UTC).{" "}
              <a href={RATE_LIMITS_DOC}>How Pipedrive counts API use</a>
            </p>
          </dd>
        </>
      )}
    </dl>
  );
}

/** The Access row: the worst condition in force, else how renewal goes. */
function Access({
  connection,
  condition,
  isAdmin,
}: {
  connection: ConnectionView;
  condition: Condition | null;
  isAdmin: boolean;
}) {
  switch (condition?.kind) {
    case "unavailable":
      if (!isAdmin) return <>Lookups are unavailable; the CRM&apos;s operators have been told</>;
      return (
        <>
          Unavailable since <When date={condition.since} />: Pipedrive rejects this CRM&apos;s app credentials
        </>
      );
    case "host_unrecognised":
      return <>Paused: the stored Pipedrive address is not recognised</>;
    case "needs_permissions":
      return <>Paused: a permission lookups need is missing</>;
    case "subscription_lapsed":
      return <>Paused until the company&apos;s Pipedrive subscription is active again</>;
    case "access_forbidden":
      return <>Paused: the Pipedrive user lacks a permission</>;
    case "paused":
      return (
        <>
          Paused until <When date={condition.until} /> by Pipedrive&apos;s request limit
        </>
      );
    case "checking_access":
      return (
        <>
          Checking access: Pipedrive refused a renewal at <When date={condition.since} />; we&apos;ll know by{" "}
          <When date={condition.dueAt} />, and lookups wait until then
        </>
      );
    case "renewal_delayed":
      return (
        <>
          Renewal delayed:{" "}
          {condition.lastRan ? (
            <>
              automatic renewal last ran <When date={condition.lastRan} />
            </>
          ) : (
            "automatic renewal has not run yet"
          )}
          ; lookups still renew access when they need it
        </>
      );
    default:
      return <Renewal connection={connection} />;
  }
}

/** "Renewed automatically · last renewed … · next …": never a time already past. */
function Renewal({ connection }: { connection: ConnectionView }) {
  const next = connection.nextRenewalAt;
  return (
    <>
      Renewed automatically
      {connection.lastRefreshedAt && (
        <>
          {" "}
          · last renewed <When date={connection.lastRefreshedAt} />
        </>
      )}{" "}
      ·{" "}
      {next ? (
        <>
          next <When date={next} />
        </>
      ) : (
        "renewing now…"
      )}
    </>
  );
}
