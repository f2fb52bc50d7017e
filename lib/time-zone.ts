// The reader's time zone, as their browser names it in a cookie, so the server renders every
// time in it from the first byte. Anything that is not a zone this runtime knows is ignored.

export const ZONE_COOKIE = "crm_tz";

/** An IANA zone name ("America/Sao_Paulo") this runtime can format in; null for anything else. */
export function validZone(value: string | null | undefined): string | null {
  if (!value || !/^[A-Za-z0-9_+\-/]{1,64}$/.test(value)) return null;
  try {
    new Intl.DateTimeFormat("en-GB", { timeZone: value });
    return value;
  } catch {
    return null;
  }
}

/** The zone's short name at `at`, as the page prints it beside times: "GMT-3", "UTC". */
export function zoneName(timeZone: string, at: Date = new Date()): string {
  return (
    new Intl.DateTimeFormat("en-GB", { timeZone, timeZoneName: "short" })
      .formatToParts(at)
      .find((part) => part.type === "timeZoneName")?.value ?? timeZone
  );
}
