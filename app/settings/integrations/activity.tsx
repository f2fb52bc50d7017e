import { When } from "@/app/components/when.tsx";
import type { AuditEntry } from "@/lib/pipedrive/settings-view.ts";
import type { AuditEvent } from "@/lib/pipedrive/tokens/audit-store.ts";
import { errorReasons, type ErrorReason } from "@/lib/settings-outcomes.ts";

import { bannerFor, CONSENT_CANCELLED } from "./banners.ts";

// The workspace's Pipedrive activity in plain words: what happened, to which Pipedrive company,
// and who did it. The audit detail keeps the protocol terms for support.

const labels = {
  connected: "Connected",
  reconnected: "Reconnected",
  disconnected: "Disconnected",
  uninstalled: "Uninstalled in Pipedrive",
  refresh_failed: "Stopped working: Pipedrive refused our access",
  recovered: "Working again without a reconnect",
  revoke_failed: "Removing the app in Pipedrive failed",
  needs_permissions: "Connected without a permission lookups need",
  subscription_lapsed: "Paused: Pipedrive subscription not active",
  access_forbidden: "Paused: the Pipedrive user lacks a permission",
  connect_refused: "Not connected: that Pipedrive login is used by another workspace",
  connect_cancelled: CONSENT_CANCELLED,
  connect_failed: "Connect failed",
  switch_cancelled: "Switch of Pipedrive user cancelled",
  paused: "Lookups paused: the company's Pipedrive request limit is used up",
  resumed: "Lookups resumed: the company's Pipedrive request limit was reset",
  admins_asked: "A member asked an admin to connect Pipedrive",
} satisfies Record<AuditEvent, string>;

export function describeEvent(entry: AuditEntry): { what: string; company: string | null; who: string } {
  const reason = entry.detail.reason;
  const from = entry.detail.fromPipedriveUserName;
  const to = entry.detail.pipedriveUserName;
  const wanted = entry.detail.toPipedriveUserName;
  const what =
    entry.event === "connect_failed"
      ? `Connect failed: ${isErrorReason(reason) ? bannerFor({ result: "error", reason }).title : "something went wrong"}`
      : entry.event === "reconnected" && typeof from === "string" && typeof to === "string"
        ? `Switched Pipedrive user from ${from} to ${to}`
        : entry.event === "switch_cancelled" && typeof wanted === "string" && typeof to === "string"
          ? `Switch to ${wanted} cancelled; still connected as ${to}`
          : entry.event === "admins_asked" && entry.actorName
            ? `${entry.actorName} asked an admin to ${entry.detail.what === "reconnect" ? "reconnect" : "connect"} Pipedrive`
            : (labels[entry.event as AuditEvent] ?? entry.event);
  const company = typeof entry.detail.companyName === "string" ? entry.detail.companyName : null;
  const pipedriveUser = typeof entry.detail.pipedriveUserName === "string" ? entry.detail.pipedriveUserName : null;
  const who = entry.actorName
    ? `by ${entry.actorName}`
    : entry.event === "uninstalled"
      ? `by ${pipedriveUser ?? "a Pipedrive user"}, in Pipedrive`
      : // Renewals, lookups and Pipedrive's answers: nobody of this workspace did it.
        "found by the CRM";
  return { what, company, who };
}

/** Whom the newest switch of Pipedrive user replaced, when the newest grant was one (events newest first). */
export function lastSwitchFrom(events: AuditEntry[]): string | null {
  const grant = events.find((entry) => ["connected", "reconnected", "needs_permissions"].includes(entry.event));
  const from = grant?.detail.fromPipedriveUserName;
  return typeof from === "string" ? from : null;
}

const isErrorReason = (value: unknown): value is ErrorReason =>
  typeof value === "string" && (errorReasons as readonly string[]).includes(value);

export function ActivityList({ events }: { events: AuditEntry[] }) {
  return (
    <ul className="activity">
      {events.map((entry) => {
        const { what, company, who } = describeEvent(entry);
        return (
          <li key={entry.id}>
            <span className="event">{what}</span>
            {company && (
              <>
                {" "}
                · <span className="company">{company}</span>
              </>
            )}
            <div className="muted">
              {who}, <When date={entry.createdAt} />
            </div>
          </li>
        );
      })}
    </ul>
  );
}
