import Link from "next/link";

import { ROUTES } from "@/lib/routes.ts";

export default function NotFound() {
  return (
    <main className="auth">
      <section className="card auth-card" aria-labelledby="not-found-title">
        <h1 id="not-found-title">Page not found</h1>
        <p>There is nothing at this address.</p>
        <p>
          <Link href={ROUTES.settings}>Go to integrations</Link>
        </p>
      </section>
    </main>
  );
}
