"use client";

import { useReaderZone } from "./zone.tsx";

// A moment, written out at render time (never a stored "in 59 seconds"): in the reader's own
// time zone, with the UTC time on hover. The server renders in the zone the browser named in its
// cookie (UTC, labelled as such, before it has), so hydration changes nothing.

// One format for both: in UTC it reads "4 Dec 2026, 15:11 UTC", elsewhere "… 12:11 GMT-3".
const format = (date: Date, seconds: boolean, timeZone: string) =>
  new Intl.DateTimeFormat("en-GB", {
    day: "numeric",
    month: "short",
    year: "numeric",
    hour: "2-digit",
    minute: "2-digit",
    second: seconds ? "2-digit" : undefined,
    timeZone,
    timeZoneName: "short",
  }).format(date);

export function When({ date, seconds = false }: { date: Date; seconds?: boolean }) {
  const zone = useReaderZone();
  return (
    <time dateTime={date.toISOString()} title={format(date, true, "UTC")}>
      {format(date, seconds, zone)}
    </time>
  );
}
