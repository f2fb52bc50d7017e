"use client";

import { useSyncExternalStore } from "react";

// A moment, written out at render time (never a stored "in 59 seconds"): in the reader's own
// time zone once the browser says which it is, with the UTC time on hover. The server does not
// know the zone, so the page arrives in UTC (and stays so without JavaScript), labelled as such.

const utc = (seconds: boolean) =>
  new Intl.DateTimeFormat("en-GB", {
    dateStyle: "medium",
    timeStyle: seconds ? "medium" : "short",
    timeZone: "UTC",
  });
const utcPrecise = utc(true);

function local(seconds: boolean): Intl.DateTimeFormat {
  return new Intl.DateTimeFormat("en-GB", {
    day: "numeric",
    month: "short",
    year: "numeric",
    hour: "2-digit",
    minute: "2-digit",
    second: seconds ? "2-digit" : undefined,
    hourCycle: "h23",
    timeZoneName: "short",
  });
}

const noSubscription = () => () => {};
const browserZone = () => Intl.DateTimeFormat().resolvedOptions().timeZone;
const serverZone = () => "UTC";

export function When({ date, seconds = false }: { date: Date; seconds?: boolean }) {
  // "UTC" on the server and while hydrating, then the browser's zone.
  const zone = useSyncExternalStore(noSubscription, browserZone, serverZone);
  const text = zone === "UTC" || zone === "Etc/UTC" ? `${utc(seconds).format(date)} UTC` : local(seconds).format(date);
  return (
    <time dateTime={date.toISOString()} title={`${utcPrecise.format(date)} UTC`}>
      {text}
    </time>
  );
}
