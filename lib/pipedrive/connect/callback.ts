import { z } from "zod";

import { inCallbackSlot } from "../../callback-slots.ts";
import { sameSecret } from "../../crypto.ts";
import { describe, isBusy } from "../../errors.ts";
import { log, requestLog } from "../../log.ts";
import { ROUTES } from "../../routes.ts";
import { outcomePath } from "../../settings-outcomes.ts";
import type { TenantUser } from "../../users/user-store.ts";
import { isPipedriveError } from "../client/http.ts";
import type { PipedriveContext } from "../context.ts";
import { audit } from "../tokens/audit-store.ts";
import { cancelled, failed, isCancel, redeem, type CallbackAnswer, type CallbackResult, type Flow } from "./grant.ts";
import { arriveFromMarketplace, dropHeldInstall, stateless } from "./marketplace.ts";
import { claimStateInSession, consumeState } from "./state-store.ts";
import { verifyState } from "./state.ts";

export type { CallbackResult } from "./grant.ts";

const callbackQuery = z.object({
  code: z.string().min(1).max(1024).optional(),
  state: z.string().min(1).max(200).optional(),
  error: z.string().max(100).optional(),
});
type CallbackQuery = z.infer<typeof callbackQuery>;

export type CallbackInput = {
  query: Record<string, string | undefined>;
  cookieState: string | undefined;
  /** The browser's hold on a Marketplace install (INSTALL_COOKIE), if it has one. */
  installCookie?: string | undefined;
};

/** What the callback knows of its request's session before decrypting it. */
export type CallbackSession = { key: string | null; user: () => Promise<TenantUser | null> };

/** What the callback reads of the browser: its address, its state cookie and, only if need be, its session. */
export type CallbackBrowser = {
  address: string;
  cookieState: string | undefined;
  installCookie: string | undefined;
  sessionKey: () => Promise<string | null>;
  user: () => Promise<TenantUser | null>;
};

/**
 * The callback's one entry point. A code with neither state nor error is an install started on
 * Pipedrive's Marketplace: its code is held. Anything else ends a connect started here, and uses
 * up the browser's state cookie.
 */
export async function answerCallback(
  ctx: PipedriveContext,
  request: Request,
  browser: CallbackBrowser,
): Promise<CallbackAnswer> {
  const query = Object.fromEntries(new URL(request.url).searchParams);
  const marketplace = stateless(query);
  if (marketplace) return await arriveFromMarketplace(ctx, request, marketplace, browser);
  const session = { key: await browser.sessionKey(), user: browser.user };
  const { outcome, detail, user, confirm } = await completeCallback(ctx, session, {
    query,
    cookieState: browser.cookieState,
    installCookie: browser.installCookie,
  });
  // Only the keys Pipedrive sends are logged; its code and state are redacted by the logger's configuration.
  requestLog(request, { tenant: user?.tenantId ?? null }).info(
    { outcome: outcomePath(outcome), detail, query: { code: query.code, state: query.state, error: query.error } },
    "pipedrive callback",
  );
  return confirm
    ? { to: ROUTES.installConfirm, cookie: confirm, stateUsed: true }
    : { to: outcomePath(outcome), stateUsed: true };
}

/**
 * Pipedrive's redirect back, from its query to an outcome. When the request presents the very
 * session its flow was started in, one statement recognises it, re-reads the user and claims the
 * state. Otherwise the session is decrypted and everything checked in full, which also finds the
 * reason for a refusal. Throws only when the database is too busy to check it (a 503, nothing
 * used), and nothing is written unless the whole flow checks out.
 */
export async function completeCallback(
  ctx: PipedriveContext,
  session: CallbackSession,
  input: CallbackInput,
): Promise<CallbackResult & { user: TenantUser | null }> {
  const query = callbackQuery.safeParse(input.query);
  const checked = query.success
    ? checkState(ctx, query.data, input.cookieState)
    : failed("state_invalid", "malformed callback query");
  const complete = () => completeChecked(ctx, session, input, query.data, checked);
  // Only a flow whose state we signed, back in the browser that started it, can go on to exchange
  // a code: only it waits for one of the few slots, so forged callbacks never hold an admin's up.
  return "nonceHash" in checked ? await inCallbackSlot(ctx.callbacks, complete) : await complete();
}

async function completeChecked(
  ctx: PipedriveContext,
  session: CallbackSession,
  input: CallbackInput,
  query: CallbackQuery | undefined,
  checked: CheckedState | CallbackResult,
): Promise<CallbackResult & { user: TenantUser | null }> {
  try {
    if (session.key && "nonceHash" in checked) {
      const claimed = await claimStateInSession(checked.nonceHash, session.key, ctx.now(), new Date());
      if (claimed) {
        const { user, pkceVerifier } = claimed;
        return { ...(await redeemAndRecord(ctx, user, { ...checked, pkceVerifier })), user };
      }
    }
    const user = await session.user();
    const result = await inFull(ctx, user, query, checked, input.installCookie).catch(unlessBusy);
    return { ...result, user };
  } catch (unexpected) {
    return { ...unlessBusy(unexpected), user: null };
  }
}

type CheckedState = { nonceHash: string; code: string | undefined; error: string | undefined };

/** The state's own checks: present, signed by us, and started in this browser. */
function checkState(
  ctx: PipedriveContext,
  { code, state, error }: CallbackQuery,
  cookieState: string | undefined,
): CheckedState | CallbackResult {
  // Marketplace installs arrive without state; we never trust such a callback.
  if (!state) return failed("state_missing", "callback without state");
  const nonceHash = verifyState(ctx.stateKey, state);
  if (!nonceHash) return failed("state_invalid", "state signature invalid");
  if (!cookieState || !sameSecret(cookieState, state))
    return failed("state_invalid", "state not started in this browser");
  return { nonceHash, code, error };
}

/** The callback for a session already decrypted (`query` undefined: it did not parse, and `checked` says so). */
async function inFull(
  ctx: PipedriveContext,
  user: TenantUser | null,
  query: CallbackQuery | undefined,
  checked: CheckedState | CallbackResult,
  installCookie: string | undefined,
): Promise<CallbackResult> {
  if (!query) return checked as CallbackResult;
  // Deny on a Marketplace install's consent comes back with no state: nothing was granted, so
  // there is nothing to check. Any page can send a browser to that link, so it is logged only
  // when this browser holds an install it was tied to; otherwise nothing is written.
  if (!query.state && isCancel(query.error)) {
    if (user?.role === "admin" && (await dropHeldInstall(ctx, installCookie))) {
      const denied = cancelled(`${query.error}, without state, for the install this browser held (Marketplace)`);
      await recordAttempt(user, denied);
      return denied;
    }
    return { outcome: { result: "install_cancelled" }, detail: "Deny without state, tied to no flow: not recorded" };
  }
  if (!user) return failed("session_missing", "no session at callback");
  if (!("nonceHash" in checked)) return checked;
  const { nonceHash, code, error } = checked;

  const consumed = await consumeState(nonceHash, user.tenantId, user.id, ctx.now());
  if (consumed.result === "unknown") return failed("state_invalid", "state not issued to this user and tenant");
  if (consumed.result === "reused") return failed("state_reused", "state already used");
  if (consumed.result !== "ok") return failed("state_expired", "state expired");

  return await redeemAndRecord(ctx, user, { code, error, pkceVerifier: consumed.pkceVerifier });
}

/** A claimed state: the flow is this admin's own, so how it ends goes to the workspace's activity log. */
async function redeemAndRecord(ctx: PipedriveContext, user: TenantUser, flow: Flow): Promise<CallbackResult> {
  const result = await redeem(ctx, user, flow).catch(unexpectedly);
  await recordAttempt(user, result);
  return result;
}

/**
 * A database too busy to check the state is thrown on, to a 503 whose "Try again" is this same
 * URL: nothing of the flow was used (the state's claim rolled back, the code not exchanged).
 * Once the code is exchanged (redeem), a busy database is waited out there instead.
 */
const unlessBusy = (error: unknown): CallbackResult => {
  if (isBusy(error)) throw error;
  return unexpectedly(error);
};

const unexpectedly = (error: unknown): CallbackResult => ({
  outcome: { result: "error", reason: "server_error" },
  detail: isPipedriveError(error) ? error.message : describe(error),
});

/** A cancelled or failed connect, for the activity log (a refused install is logged where it is refused). */
async function recordAttempt(user: TenantUser, result: CallbackResult): Promise<void> {
  const { outcome } = result;
  const event =
    outcome.result === "denied"
      ? "connect_cancelled"
      : outcome.result === "error" && outcome.reason !== "install_in_use"
        ? "connect_failed"
        : null;
  if (!event) return;
  await audit(user.tenantId, event, user.id, outcome.result === "error" ? { reason: outcome.reason } : {}).catch(
    (auditError) => {
      log().warn({ tenant: user.tenantId, reason: describe(auditError) }, "recording a failed connect failed");
    },
  );
}
