"use client";

import { useEffect, useRef, useState, type ReactNode } from "react";

/**
 * A form's submit button that says the form is on its way (spinner, `busyText`, a polite
 * announcement) and refuses a second press until the next page arrives. Without JavaScript it
 * is a plain submit button.
 *
 * `bound`: the server gives up after this many seconds, so the wait shows its seconds against it;
 * `cancel`: a button (`label`) that stops waiting (the browser drops the request, and the server
 * stops once it sees the hang-up), leaves the form as it was and announces `done`.
 */
export function SubmitButton({
  children,
  busyText,
  className,
  bound,
  cancel,
}: {
  children: ReactNode;
  busyText: string;
  className: string;
  bound?: number;
  cancel?: { label: string; done: string };
}) {
  const button = useRef<HTMLButtonElement>(null);
  const sent = useRef(false);
  const [state, setState] = useState<"idle" | "busy" | "cancelled">("idle");
  const [waited, setWaited] = useState(0);
  const busy = state === "busy";

  useEffect(() => {
    const form = button.current?.form;
    if (!form) return;
    const onSubmit = (event: SubmitEvent) => {
      if (event.submitter !== button.current) return;
      if (sent.current) return event.preventDefault();
      sent.current = true;
      setWaited(0);
      setState("busy");
    };
    // Back to a page kept in the browser's cache: the form was sent long ago.
    const onPageShow = () => {
      sent.current = false;
      setState("idle");
    };
    form.addEventListener("submit", onSubmit);
    window.addEventListener("pageshow", onPageShow);
    // Tells a test the handler is in place: set on the element, as nothing on the page depends on it.
    button.current!.dataset.ready = "true";
    return () => {
      form.removeEventListener("submit", onSubmit);
      window.removeEventListener("pageshow", onPageShow);
    };
  }, []);

  useEffect(() => {
    if (!busy || !bound) return;
    const started = Date.now();
    const timer = setInterval(() => setWaited(Math.floor((Date.now() - started) / 1000)), 1000);
    return () => clearInterval(timer);
  }, [busy, bound]);

  const stop = () => {
    window.stop();
    sent.current = false;
    setState("cancelled");
    button.current?.focus();
  };

  return (
    <>
      <button ref={button} type="submit" className={className} aria-disabled={busy || undefined}>
        {busy ? (
          <>
            <span className="spinner" aria-hidden="true" />
            {busyText}
            {bound && (
              <span aria-hidden="true">
                {" "}
                {/* A no-break space: a number never parts from its unit. */}
                {waited}&nbsp;s of at most {bound}&nbsp;s
              </span>
            )}
          </>
        ) : (
          children
        )}
      </button>
      {busy && cancel && (
        <button type="button" className="button button-secondary" onClick={stop}>
          {cancel.label}
        </button>
      )}
      <span role="status" className="visually-hidden">
        {busy
          ? `${busyText}${bound ? ` This takes at most ${bound} seconds.` : ""}`
          : state === "cancelled" && cancel?.done}
      </span>
    </>
  );
}
