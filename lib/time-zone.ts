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

/**
 * A UTC time as mails write it, with the same moment in each of `zones` (the readers'): "(09:32
 * GMT-3 · 21:32 GMT+9)", with the day where it is not UTC's. Empty when no zone differs from UTC.
 */
export function alsoInZones(at: Date, zones: readonly string[]): string {
  const utcDay = at.toISOString().slice(0, 10);
  // West to east, whatever order the readers came in.
  const said = new Map<string, number>();
  for (const zone of zones) {
    const timeZone = validZone(zone);
    if (!timeZone) continue;
    const name = zoneName(timeZone, at);
    if (name === "UTC" || name === "GMT") continue;
    const parts = Object.fromEntries(
      new Intl.DateTimeFormat("en-GB", {
        timeZone,
        year: "numeric",
        month: "2-digit",
        day: "2-digit",
        hour: "2-digit",
        minute: "2-digit",
        hourCycle: "h23",
      })
        .formatToParts(at)
        .map((part) => [part.type, part.value]),
    );
    const day = `${parts.year}-${parts.month}-${parts.day}`;
    const dayText = new Intl.DateTimeFormat("en-GB", { timeZone, day: "numeric", month: "short" }).format(at);
    const offset =
      Date.UTC(+parts.year!, +parts.month! - 1, +parts.day!, +parts.hour!, +parts.minute!) -
      Math.floor(at.getTime() / 60_000) * 60_000;
    said.set(`${day === utcDay ? "" : `${dayText}, `}${parts.hour}:${parts.minute} ${name}`, offset);
  }
  const ordered = [...said].sort((a, b) => a[1] - b[1]).map(([text]) => text);
  return ordered.length ? ` (${ordered.join(" · ")})` : "";
}

/** The zone's short name at `at`, as the page prints it beside times: "GMT-3", "UTC". */
export function zoneName(timeZone: string, at: Date = new Date()): string {
  return (
    new Intl.DateTimeFormat("en-GB", { timeZone, timeZoneName: "short" })
      .formatToParts(at)
      .find((part) => part.type === "timeZoneName")?.value ?? timeZone
  );
}
