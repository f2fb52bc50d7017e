import { SubmitButton } from "@/app/components/submit-button.tsx";
import { When } from "@/app/components/when.tsx";
import { USAGE_HINT } from "@/lib/errors.ts";
import type { Person } from "@/lib/pipedrive/client/schemas.ts";
import type { LookupResult } from "@/lib/pipedrive/lookup/lookup-store.ts";
import { ROUTES } from "@/lib/routes.ts";

// A plain POST form: it works without JavaScript, and the number never lands in a URL.

export type LookupContext = {
  /** "Brazil (+55)": where a number without a country code is read. */
  regionLabel: string;
  /** The searched number in international form, for a miss. */
  searchedAs: string | null;
  /** A result was asked for, but it is gone (expired, or not this user's). */
  expired: boolean;
  /** The company's Pipedrive subdomain, for links to people; null when unknown. */
  companyDomain: string | null;
  /** The connected Pipedrive user, to name an owner we know. */
  connectedUser: { id: number | null; name: string | null };
  /** What was typed, put back beside a refusal; null otherwise. */
  typed: string | null;
  /** The most a lookup waits, in seconds, every call included. */
  boundSeconds: number;
  /** The workspace's lookups today (UTC) against its daily limit; null when unknown. */
  today: { used: number; limit: number } | null;
};

export function PhoneLookup({
  lookup,
  refused,
  context,
}: {
  lookup: LookupResult | null;
  refused: { text: string; badInput: boolean } | null;
  context: LookupContext;
}) {
  const people = refused ? null : (lookup?.people ?? null);
  const problem =
    refused?.text ??
    lookup?.problem ??
    (context.expired ? "This result has expired, or belongs to someone else. Search again." : null);
  const total = lookup?.total ?? people?.length ?? 0;
  const describedBy = ["phone-hint", problem ? "lookup-problem" : null].filter(Boolean).join(" ");
  // After a lookup, its answer takes focus (no script needed), so a screen reader reads it.
  const answered = Boolean(problem || people);
  return (
    <section className="card" aria-labelledby="lookup-title">
      <h2 id="lookup-title">Find a person by phone</h2>
      <form method="post" action={ROUTES.lookup} className="inline-form lookup-form">
        <div className="field">
          <label htmlFor="phone">Phone number</label>
          <input
            id="phone"
            name="phone"
            type="tel"
            inputMode="tel"
            autoComplete="off"
            maxLength={60}
            defaultValue={lookup?.phone ?? context.typed ?? undefined}
            required
            aria-invalid={refused?.badInput || undefined}
            aria-describedby={describedBy}
          />
        </div>
        <SubmitButton
          className="button button-secondary"
          busyText="Searching…"
          bound={context.boundSeconds}
          cancel={{ label: "Cancel search", done: "Search cancelled." }}
        >
          Search
        </SubmitButton>
      </form>
      <p className="hint" id="phone-hint">
        For example +55 11 99999-0001. Numbers without a +country code are read as numbers in {context.regionLabel}. 00
        works as + too.
      </p>
      {context.today && (
        <p className="hint" id="lookups-today">
          This workspace: {context.today.used.toLocaleString("en")} of {context.today.limit.toLocaleString("en")}{" "}
          lookups today (UTC).
        </p>
      )}
      <div id="lookup-result" aria-live="polite" tabIndex={-1} autoFocus={answered}>
        {problem && (
          <p className="lookup-problem" id="lookup-problem" role="alert">
            {!refused && lookup?.pausedUntil ? (
              // The moment in the reader's zone, as the badge says it: never a time fixed to UTC.
              <>
                Pipedrive&apos;s request limit for this company is used up. Lookups resume at{" "}
                <When date={new Date(lookup.pausedUntil)} />. {USAGE_HINT}
              </>
            ) : (
              problem
            )}
          </p>
        )}
        {people && people.length === 0 && (
          <div className="lookup-miss">
            <p>
              No person in Pipedrive has <strong>{context.searchedAs ?? lookup?.phone}</strong>.
            </p>
            <p className="muted">
              If the number is from outside {context.regionLabel.replace(/ \(.*\)$/, "")}, add its country code, for
              example +1 415 555 0103.
            </p>
          </div>
        )}
        {people && people.length > 0 && (
          <>
            <p className="lookup-count">
              {total} {total === 1 ? "person" : "people"} found for{" "}
              <strong>{context.searchedAs ?? lookup?.phone}</strong>
            </p>
            <ul className="people" aria-label="Matches">
              {people.map((person) => (
                <PersonMatch key={person.id} person={person} searched={lookup?.phone ?? ""} context={context} />
              ))}
            </ul>
          </>
        )}
        {people && total > people.length && (
          <p className="muted">
            {total - people.length} more {total - people.length === 1 ? "person has" : "people have"} this number in
            Pipedrive. Showing the first {people.length}; search a longer number to narrow it down.
          </p>
        )}
      </div>
    </section>
  );
}

const digitsOf = (text: string) => text.replace(/\D/g, "");

/** The stored phone the search matched: same digits, or the same national digits at the end. */
function isMatched(stored: string, searched: string): boolean {
  const a = digitsOf(stored);
  const b = digitsOf(searched).replace(/^00/, "");
  return a.length >= 4 && b.length >= 4 && (a === b || a.endsWith(b) || b.endsWith(a));
}

function PersonMatch({ person, searched, context }: { person: Person; searched: string; context: LookupContext }) {
  const domain =
    context.companyDomain && /^[a-z0-9-]{1,63}$/i.test(context.companyDomain) ? context.companyDomain : null;
  const owner =
    person.ownerId == null
      ? null
      : person.ownerId === context.connectedUser.id
        ? (context.connectedUser.name ?? "the connected Pipedrive user")
        : `Pipedrive user ${person.ownerId}`;
  return (
    <li>
      {domain ? (
        <a href={`https://${domain}.pipedrive.com/person/${person.id}`} target="_blank" rel="noopener noreferrer">
          <strong>{person.name || "(no name)"}</strong>
          <span className="visually-hidden"> (opens in Pipedrive)</span>
        </a>
      ) : (
        <strong>{person.name || "(no name)"}</strong>
      )}
      {person.organization?.name && <span className="muted"> · {person.organization.name}</span>}
      {owner && <div className="muted">Owner: {owner}</div>}
      {person.phones.length > 0 && (
        <div>
          <span className="visually-hidden">Phones: </span>
          {person.phones.map((phone, i) => (
            <span key={`${phone}-${i}`}>
              {i > 0 && " · "}
              {isMatched(phone, searched) ? <mark title="The number you searched">{phone}</mark> : phone}
            </span>
          ))}
        </div>
      )}
      {person.customPhones?.map((found, i) => (
        <div key={`custom-${i}`} className="custom-phone">
          {found.field ?? "A custom phone field"}:{" "}
          <mark title="The number you searched, in a custom phone field">{found.phone}</mark>
        </div>
      ))}
      {person.emails.length > 0 && (
        <div className="muted">
          <span className="visually-hidden">Emails: </span>
          {person.emails.join(" · ")}
        </div>
      )}
    </li>
  );
}
