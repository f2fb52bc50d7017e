"use client";

import { useSyncExternalStore } from "react";

// A moment, written out at render time (never a stored "in 59 seconds"): in the reader's own
// time zone once the browser says which it is, with the UTC time on hover. The server does not
// know the zone, so the page arrives in UTC (and stays so without JavaScript), labelled as such.

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

const noSubscription = () => () => {};
const browserZone = () => Intl.DateTimeFormat().resolvedOptions().timeZone;
const serverZone = () => "UTC";

export function When({ date, seconds = false }: { date: Date; seconds?: boolean }) {
  // "UTC" on the server and while hydrating, then the browser's zone.
  const zone = useSyncExternalStore(noSubscription, browserZone, serverZone);
  return (
    <time dateTime={date.toISOString()} title={format(date, true, "UTC")}>
      {format(date, seconds, zone)}
    </time>
  );
}
