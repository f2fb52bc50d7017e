import type { LookupResult } from "@/lib/pipedrive/lookup-store.ts";

// A plain POST form: it works without JavaScript, and the number never lands in a URL.
export function PhoneLookup({
  lookup,
  refused,
}: {
  lookup: LookupResult | null;
  refused: { text: string; badInput: boolean } | null;
}) {
  const people = refused ? null : (lookup?.people ?? null);
  const problem = refused?.text ?? lookup?.problem ?? null;
  return (
    <section className="card" aria-labelledby="lookup-title">
      <h2 id="lookup-title">Find a person by phone</h2>
      <form method="post" action="/api/integrations/pipedrive/lookup" className="inline-form">
        <div className="field">
          <label htmlFor="phone">Phone number</label>
          <input
            id="phone"
            name="phone"
            type="tel"
            inputMode="tel"
            autoComplete="off"
            maxLength={60}
            defaultValue={lookup?.phone}
            placeholder="+55 11 99999-0001"
            required
            aria-invalid={refused?.badInput || undefined}
            aria-describedby={problem ? "lookup-problem" : undefined}
          />
        </div>
        <button type="submit" className="button button-secondary">
          Search
        </button>
      </form>
      <div aria-live="polite">
        {problem && (
          <p className="lookup-problem" id="lookup-problem" role="alert">
            {problem}
          </p>
        )}
        {people && people.length === 0 && <p>No person in Pipedrive has that phone number.</p>}
        {people && people.length > 0 && (
          <ul className="people" aria-label="Matches">
            {people.map((person) => (
              <li key={person.id}>
                <strong>{person.name || "(no name)"}</strong>
                {person.organization?.name && <span className="muted"> · {person.organization.name}</span>}
                <div className="muted">{[...person.phones, ...person.emails].join(" · ")}</div>
              </li>
            ))}
          </ul>
        )}
        {people && lookup?.total !== undefined && lookup.total > people.length && (
          <p className="muted">
            {lookup.total - people.length} more {lookup.total - people.length === 1 ? "person has" : "people have"} this
            number in Pipedrive. Showing the first {people.length}.
          </p>
        )}
      </div>
    </section>
  );
}
