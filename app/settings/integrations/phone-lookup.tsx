import { toAppError } from "@/lib/errors.ts";
import { pipedrive } from "@/lib/pipedrive/context.ts";
import { searchPersonsByPhone } from "@/lib/pipedrive/person-search.ts";
import type { Person } from "@/lib/pipedrive/schemas.ts";

export type LookupResult = { phone: string; people: Person[] | null; problem: string | null };

// A plain GET form: the lookup runs while the page renders, so it works without JavaScript.
// It runs before the page reads the connection, so a failure it discovers shows at once.
export async function runLookup(tenantId: string, phone: string): Promise<LookupResult> {
  try {
    return { phone, people: await searchPersonsByPhone(pipedrive(), tenantId, phone), problem: null };
  } catch (error) {
    const appError = toAppError(error);
    if (appError.code === "internal") console.error("[pipedrive] lookup failed:", appError.message);
    return { phone, people: null, problem: appError.userMessage };
  }
}

export function PhoneLookup({ lookup }: { lookup: LookupResult | null }) {
  const people = lookup?.people ?? null;
  const problem = lookup?.problem ?? null;
  return (
    <section className="card" aria-labelledby="lookup-title">
      <h2 id="lookup-title">Find a person by phone</h2>
      <form method="get" action="/settings/integrations" className="inline-form">
        <div className="field">
          <label htmlFor="phone">Phone number</label>
          <input id="phone" name="phone" type="tel" inputMode="tel" autoComplete="off" maxLength={60} defaultValue={lookup?.phone} placeholder="+55 11 99999-0001" required />
        </div>
        <button type="submit" className="button button-secondary">
          Search
        </button>
      </form>
      <div aria-live="polite">
        {problem && (
          <p className="lookup-problem" role="alert">
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
      </div>
    </section>
  );
}
