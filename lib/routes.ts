// Every path the app links, redirects, posts or scopes a cookie to, so that moving a page is one edit.
export const ROUTES = {
  settings: "/settings/integrations",
  /** The page a page's reader lands on when the database is too busy to render it (503). */
  busy: "/busy",
  activity: "/settings/integrations/activity",
  disconnectConfirm: "/settings/integrations/disconnect",
  installConfirm: "/settings/integrations/install",
  signIn: "/sign-in",
  signInSubmit: "/sign-in/submit",
  authorize: "/api/integrations/pipedrive/authorize",
  callback: "/api/integrations/pipedrive/callback",
  install: "/api/integrations/pipedrive/install",
  disconnect: "/api/integrations/pipedrive/disconnect",
  lookup: "/api/integrations/pipedrive/lookup",
  askAdmins: "/api/integrations/pipedrive/ask",
  checkNow: "/api/integrations/pipedrive/check",
  notifications: "/api/integrations/pipedrive/notifications",
} as const;

/** The sign-in page, sending the person on to `returnTo` (a path of ours) once signed in. */
export function signInUrl(returnTo: string): `/${string}` {
  return `${ROUTES.signIn}?${new URLSearchParams({ callbackUrl: returnTo })}`;
}
