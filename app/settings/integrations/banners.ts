import type { CheckFinding, ErrorReason, Outcome, RevokeResult } from "@/lib/settings-outcomes.ts";

// What the settings page says for each outcome a flow can end with. The outcome codes and
// their URL codec live in lib/settings-outcomes.ts; the words live here, next to the page.

/** A Deny on Pipedrive's consent page, in one wording: banner, tab title and activity log. */
export const CONSENT_CANCELLED = "Connect cancelled on Pipedrive's consent page";

export type Banner = { tone: "success" | "info" | "error"; title: string; body: string; offerConnect?: boolean };

/** What the page knows beside the outcome: nothing from the URL is ever echoed. */
export type BannerContext = {
  /** The workspace has a connection now, so a failed or cancelled flow left it as it was. */
  connected: boolean;
  /** Whom the connection acts as now. */
  pipedriveUserName?: string | null;
  /** Whom the newest switch of Pipedrive user replaced, from the activity log. */
  switchedFrom?: string | null;
  /** The workspace's admins' names, for a member who asked them. */
  admins?: string[];
};

export function bannerFor(outcome: Outcome, page: BannerContext = { connected: false }): Banner {
  const now = page.pipedriveUserName ?? "the Pipedrive user who approved";
  switch (outcome.result) {
    case "connected":
      return {
        tone: "success",
        title: "Pipedrive connected",
        body: "Lead enrichment can now look people up in your Pipedrive account.",
      };
    case "reconnected":
      return { tone: "success", title: "Pipedrive reconnected", body: `Reconnected as ${now}; nothing else changed.` };
    case "switched": {
      const from = page.switchedFrom ?? "the previous Pipedrive user";
      return {
        tone: "success",
        title: "Switched Pipedrive user",
        body: `Switched from ${from} to ${now}; ${switchedApp(from)[outcome.revoke]}`,
      };
    }
    case "needs_permissions":
      return {
        tone: "info",
        title: "Pipedrive connected without a permission lookups need",
        body: "The access granted in Pipedrive does not include everything lookups use, so they are paused. Press Reconnect and allow all the permissions Pipedrive asks for.",
      };
    case "denied":
      // The same words as the activity log's row for it (activity.tsx).
      return {
        tone: "info",
        title: CONSENT_CANCELLED,
        body: page.connected
          ? "Your existing connection is unchanged."
          : "Nothing was connected. You can connect whenever you are ready.",
      };
    case "confirm_switch":
      return {
        tone: "info",
        title: "Confirm the switch",
        body: "Connecting as another Pipedrive user waits for your confirmation. Nothing was changed yet.",
      };
    case "mail_on":
      return {
        tone: "success",
        title: "You will get mail about Pipedrive",
        body: "You will get mail about this connection when it stops working or recovers, waits on Pipedrive, or is disconnected, uninstalled or switched to another Pipedrive user.",
      };
    case "asked":
      return {
        tone: "success",
        title: "Your admins were asked",
        body: `We mailed ${inWords(page.admins) ?? "your workspace's admins"}. They can connect Pipedrive from this page; you will see it here once they do.`,
      };
    case "already_asked":
      return {
        tone: "info",
        title: "You already asked today",
        body: `Your admins (${inWords(page.admins) ?? "of this workspace"}) were mailed when you asked; you can ask again tomorrow.`,
      };
    case "checked":
      return checkBanners[outcome.found];
    case "mail_off":
      return {
        tone: "info",
        title: "Mail about Pipedrive turned off",
        body: "You will not get mail about this connection. Other admins still do, unless they turn it off too.",
      };
    case "install_cancelled":
      return {
        tone: "info",
        title: page.connected ? "Nothing changed" : "Install cancelled",
        body: page.connected
          ? "Your existing connection is unchanged."
          : "Nothing was connected. You can connect whenever you are ready.",
      };
    case "disconnected":
      return disconnectBanners[outcome.revoke];
    case "nothing_to_disconnect":
      return {
        tone: "info",
        title: "Nothing to disconnect",
        body: "Pipedrive was not connected for this workspace, so nothing changed.",
      };
    case "error": {
      const banner = errorBanners[outcome.reason];
      // A failed flow never touches a connection the workspace already has.
      if (!page.connected) return banner;
      for (const nothing of [
        restart,
        "Nothing was connected yet: continue with Connect Pipedrive.",
        "Nothing was connected.",
      ])
        if (banner.body.endsWith(nothing))
          return { ...banner, body: banner.body.replace(nothing, "Your existing connection is unchanged.") };
      return banner;
    }
  }
}

const checkBanners: Record<CheckFinding, Banner> = {
  works: {
    tone: "success",
    title: "Pipedrive answers again",
    body: "We repeated the call Pipedrive had refused, and it works now, so lookups resume.",
  },
  still_refused: {
    tone: "info",
    title: "Pipedrive still refuses",
    body: "We repeated the call Pipedrive had refused, and it refused again: what the card says still applies. Lookups resume on their own once it works (we also check every hour).",
  },
  still_paused: {
    tone: "info",
    title: "Still paused by Pipedrive",
    body: "Pipedrive's request limit for this company is still used up. Lookups resume on their own when it lifts.",
  },
  nothing_to_check: {
    tone: "info",
    title: "Nothing to check",
    body: "Pipedrive is not refusing or pausing this workspace's lookups right now.",
  },
  too_soon: {
    tone: "info",
    title: "Checked a moment ago",
    body: "Check now looks at Pipedrive once a minute for a workspace. Try again shortly.",
  },
};

/** "Dana Admin, Ed Admin and Flo Admin"; null for nobody. */
export function inWords(names: string[] | undefined): string | null {
  if (!names?.length) return null;
  return names.length === 1 ? names[0]! : `${names.slice(0, -1).join(", ")} and ${names.at(-1)}`;
}

/** What became of the previous Pipedrive user's app after a switch. */
const switchedApp = (from: string): Record<RevokeResult, string> => ({
  done: `the app was removed from ${from}'s Pipedrive account.`,
  kept: `the app stays installed in ${from}'s Pipedrive account, since another workspace still uses that login.`,
  failed: `Pipedrive did not confirm it removed the app from ${from}'s account: remove it there under Tools and apps.`,
});

const disconnectBanners: Record<RevokeResult, Banner> = {
  done: {
    tone: "success",
    title: "Pipedrive disconnected",
    body: "The app was removed from the connected Pipedrive user's account and lead enrichment stopped for this workspace.",
  },
  kept: {
    tone: "success",
    title: "Pipedrive disconnected",
    body: "Lead enrichment stopped for this workspace. The app stays installed in Pipedrive because another workspace still uses the same Pipedrive login.",
  },
  failed: {
    tone: "info",
    title: "Pipedrive disconnected",
    body: "Lead enrichment stopped for this workspace, but Pipedrive did not confirm that it removed the app. You can also remove it under Tools and apps in Pipedrive.",
  },
};

const restart = "Nothing was connected. Start again with Connect Pipedrive.";
const errorBanners: Record<ErrorReason, Banner> = {
  state_missing: {
    tone: "info",
    title: "Finish connecting from here",
    body: "Pipedrive sent you here without our security check (this happens after installing from the Pipedrive Marketplace). Nothing was connected yet: continue with Connect Pipedrive.",
    offerConnect: true,
  },
  state_invalid: {
    tone: "error",
    title: "Connection refused",
    body: `The security check did not match the request this browser started. ${restart}`,
    offerConnect: true,
  },
  state_expired: {
    tone: "error",
    title: "Connection timed out",
    body: `The request took too long to come back from Pipedrive. ${restart}`,
    offerConnect: true,
  },
  state_reused: {
    tone: "error",
    title: "Link already used",
    body: `That Pipedrive link was already used once. ${restart}`,
    offerConnect: true,
  },
  session_missing: {
    tone: "error",
    title: "Signed out",
    body: `Your session ended before Pipedrive sent you back. ${restart}`,
    offerConnect: true,
  },
  forbidden: {
    tone: "error",
    title: "Admins only",
    body: "Only a workspace admin can connect or disconnect Pipedrive.",
  },
  authorization_failed: {
    tone: "error",
    title: "Pipedrive refused",
    body: `Pipedrive did not authorise the connection. ${restart}`,
    offerConnect: true,
  },
  exchange_failed: {
    tone: "error",
    title: "Pipedrive did not complete the connection",
    body: `Pipedrive's answer could not be used. ${restart}`,
    offerConnect: true,
  },
  exchange_timeout: {
    tone: "error",
    title: "Pipedrive took too long to answer",
    body: `If it keeps happening, Pipedrive may be having trouble. ${restart}`,
    offerConnect: true,
  },
  profile_failed: {
    tone: "error",
    title: "Pipedrive did not complete the connection",
    body: `We could not read the Pipedrive account behind the grant. ${restart}`,
    offerConnect: true,
  },
  install_in_use: {
    tone: "error",
    title: "That Pipedrive login is already connected",
    body: `The Pipedrive user you allowed is already connected to another workspace, and Pipedrive gives one login one connection. Connect with another Pipedrive user, or disconnect it there first. ${restart}`,
    offerConnect: true,
  },
  install_expired: {
    tone: "info",
    title: "That install link has expired",
    body: `Pipedrive's install link was already used, or is more than a few minutes old. ${restart}`,
    offerConnect: true,
  },
  install_busy: {
    tone: "error",
    title: "Too many installs from this network",
    body: "Several Pipedrive installs were started from your network in the last few minutes, so this one was not kept. Wait about ten minutes, then install again from Pipedrive's Marketplace, or press Connect Pipedrive here. Nothing was connected.",
    offerConnect: true,
  },
  install_admins_only: {
    tone: "info",
    title: "A workspace admin must install Pipedrive",
    body: "Installing Pipedrive connects it for the whole workspace, so only an admin can do it. Ask an admin of your workspace to install it from Pipedrive's Marketplace, or to press Connect Pipedrive here. Nothing was connected.",
  },
  activity_admins_only: {
    tone: "info",
    title: "The activity log is for admins",
    body: "Only admins of this workspace can see who connected, reconnected or disconnected Pipedrive. Ask one of them if you need to know.",
  },
  server_error: {
    tone: "error",
    title: "Something went wrong",
    body: `We could not finish on our side. ${restart}`,
    offerConnect: true,
  },
};
