"use client";

import { useEffect, useRef, useState, type ReactNode } from "react";

/**
 * A form's submit button that says the form is on its way (spinner, `busyText`, a polite
 * announcement) and refuses a second press until the next page arrives. Without JavaScript it
 * is a plain submit button. `data-ready` tells a test the enhancement is in place.
 *
 * `bound`: the server gives up after this many seconds, so the wait shows its seconds against it;
 * `cancelLabel`: a button that stops waiting (the browser drops the request, and the server
 * stops once it sees the hang-up) and leaves the form as it was.
 */
export function SubmitButton({
  children,
  busyText,
  className,
  bound,
  cancelLabel,
  cancelledText = "Cancelled.",
}: {
  children: ReactNode;
  busyText: string;
  className: string;
  bound?: number;
  cancelLabel?: string;
  cancelledText?: string;
}) {
  const button = useRef<HTMLButtonElement>(null);
  const sent = useRef(false);
  const [busy, setBusy] = useState(false);
  const [ready, setReady] = useState(false);
  const [waited, setWaited] = useState(0);
  const [cancelled, setCancelled] = useState(false);

  useEffect(() => {
    const form = button.current?.form;
    if (!form) return;
    const onSubmit = (event: SubmitEvent) => {
      if (event.submitter !== button.current) return;
      if (sent.current) return event.preventDefault();
      sent.current = true;
      setWaited(0);
      setCancelled(false);
      setBusy(true);
    };
    // Back to a page kept in the browser's cache: the form was sent long ago.
    const onPageShow = () => {
      sent.current = false;
      setBusy(false);
    };
    form.addEventListener("submit", onSubmit);
    window.addEventListener("pageshow", onPageShow);
    setReady(true);
    return () => {
      form.removeEventListener("submit", onSubmit);
      window.removeEventListener("pageshow", onPageShow);
    };
  }, []);

  useEffect(() => {
    if (!busy || bound === undefined) return;
    const started = Date.now();
    const timer = setInterval(() => setWaited(Math.floor((Date.now() - started) / 1000)), 1000);
    return () => clearInterval(timer);
  }, [busy, bound]);

  const cancel = () => {
    window.stop();
    sent.current = false;
    setBusy(false);
    setCancelled(true);
    button.current?.focus();
  };

  return (
    <>
      <button
        ref={button}
        type="submit"
        className={className}
        aria-disabled={busy || undefined}
        data-ready={ready || undefined}
      >
        {busy ? (
          <>
            <span className="spinner" aria-hidden="true" />
            {busyText}
            {bound !== undefined && (
              <span aria-hidden="true">
                {" "}
                {waited} s of at most {bound} s
              </span>
            )}
          </>
        ) : (
          children
        )}
      </button>
      {busy && cancelLabel && (
        <button type="button" className="button button-secondary" onClick={cancel}>
          {cancelLabel}
        </button>
      )}
      <span role="status" className="visually-hidden">
        {busy
          ? `${busyText}${bound !== undefined ? ` This takes at most ${bound} seconds.` : ""}`
          : cancelled
            ? cancelledText
            : ""}
      </span>
    </>
  );
}
