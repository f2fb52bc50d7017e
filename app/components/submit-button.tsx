"use client";

import { useEffect, useRef, useState, type ReactNode } from "react";

/**
 * A form's submit button that says the form is on its way (spinner, `busyText`, a polite
 * announcement) and refuses a second press until the next page arrives. Without JavaScript it
 * is a plain submit button. `data-ready` tells a test the enhancement is in place.
 */
export function SubmitButton({
  children,
  busyText,
  className,
}: {
  children: ReactNode;
  busyText: string;
  className: string;
}) {
  const button = useRef<HTMLButtonElement>(null);
  const [busy, setBusy] = useState(false);
  const [ready, setReady] = useState(false);

  useEffect(() => {
    const form = button.current?.form;
    if (!form) return;
    let sent = false;
    const onSubmit = (event: SubmitEvent) => {
      if (event.submitter !== button.current) return;
      if (sent) return event.preventDefault();
      sent = true;
      setBusy(true);
    };
    // Back to a page kept in the browser's cache: the form was sent long ago.
    const onPageShow = () => {
      sent = false;
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
          </>
        ) : (
          children
        )}
      </button>
      <span role="status" className="visually-hidden">
        {busy ? busyText : ""}
      </span>
    </>
  );
}
