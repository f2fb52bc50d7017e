import { redirect } from "next/navigation";

import { BUSY_RETRY_MS, isBusy } from "../errors.ts";
import { ROUTES } from "../routes.ts";
import { NO_STORE } from "./responses.ts";

// When the database cannot take the work now (errors.ts isBusy), a reader is told so plainly,
// with a 503 and Retry-After, instead of an error page: nothing was changed, and trying again
// in a few seconds works.

const escapeHtml = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);

/** The plain "busy, try again" page: `again` is one of our own paths (the same GET, or the settings page). */
export function busyAnswer(again: `/${string}`, retryAfterMs = BUSY_RETRY_MS): Response {
  const seconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
  const html =
    `<!doctype html><html lang="en"><head><meta charset="utf-8">` +
    `<meta name="viewport" content="width=device-width, initial-scale=1"><title>Busy, try again · CRM</title></head>` +
    `<body><main><h1>The CRM is busy right now</h1>` +
    `<p>Nothing was changed. Please try again in a few seconds.</p>` +
    `<p><a href="${escapeHtml(again)}">Try again</a></p></main></body></html>`;
  return new Response(html, {
    status: 503,
    headers: { ...NO_STORE, "Content-Type": "text/html; charset=utf-8", "Retry-After": String(seconds) },
  });
}

/** A page's reads, or the busy page when the database cannot take them now. */
export async function orBusy<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    if (isBusy(error)) redirect(ROUTES.busy);
    throw error;
  }
}
