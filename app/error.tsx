"use client";

// Shown instead of a stack trace when rendering fails (a database outage, say).
export default function ErrorPage({ reset }: { error: Error; reset: () => void }) {
  return (
    <main className="auth">
      <section className="card auth-card" aria-labelledby="error-title" role="alert">
        <h1 id="error-title">Something went wrong</h1>
        <p>We could not load this page. Nothing was changed. Try again in a moment.</p>
        <p>
          <button type="button" className="button button-primary" onClick={reset}>
            Try again
          </button>
        </p>
      </section>
    </main>
  );
}
