import type { ErrorReason, Outcome } from "@/lib/pipedrive/outcomes.ts";

// What the settings page says for each outcome a flow can end with. The outcome codes and
// their URL codec live in lib/pipedrive/outcomes.ts; the words live here, next to the page.

export type Banner = { tone: "success" | "info" | "error"; title: string; body: string; offerConnect?: boolean };

export function bannerFor(outcome: Outcome): Banner {
  switch (outcome.result) {
    case "connected":
      return {
        tone: "success",
        title: "Pipedrive connected",
        body: "Lead enrichment can now look people up in your Pipedrive account.",
      };
    case "denied":
      return {
        tone: "info",
        title: "Connection cancelled",
        body: "Access was not granted in Pipedrive, so nothing was connected.",
      };
    case "disconnected":
      return outcome.revokeFailed
        ? {
            tone: "info",
            title: "Pipedrive disconnected",
            body: "We removed the connection, but Pipedrive did not confirm that it revoked our access. You can also remove the app under Pipedrive's Tools and apps.",
          }
        : {
            tone: "success",
            title: "Pipedrive disconnected",
            body: "Our access was revoked in Pipedrive and the connection removed.",
          };
    case "nothing_to_disconnect":
      return {
        tone: "info",
        title: "Nothing to disconnect",
        body: "Pipedrive was not connected for this workspace, so nothing changed.",
      };
    case "error":
      return errorBanners[outcome.reason];
  }
}

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
    body: `We could not get a valid access grant from Pipedrive. ${restart}`,
    offerConnect: true,
  },
  profile_failed: {
    tone: "error",
    title: "Pipedrive did not complete the connection",
    body: `We could not read the Pipedrive account behind the grant. ${restart}`,
    offerConnect: true,
  },
  server_error: {
    tone: "error",
    title: "Something went wrong",
    body: `We could not finish on our side. ${restart}`,
    offerConnect: true,
  },
};
