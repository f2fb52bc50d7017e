"use client";

import { createContext, useContext, useEffect, useSyncExternalStore, type ReactNode } from "react";

import { ZONE_COOKIE, zoneName } from "@/lib/time-zone.ts";

// The reader's zone: what the server knew from the cookie while rendering, then the browser's own.
// When the cookie is right, both agree and nothing changes on hydration.

const ServerZone = createContext<string | null>(null);

const noSubscription = () => () => {};
const browserZone = () => Intl.DateTimeFormat().resolvedOptions().timeZone;

export function ZoneProvider({ zone, children }: { zone: string | null; children: ReactNode }) {
  // Tell the server the browser's zone for the next page, when it did not know it.
  useEffect(() => {
    const actual = browserZone();
    if (actual !== zone)
      document.cookie = `${ZONE_COOKIE}=${encodeURIComponent(actual)}; path=/; max-age=31536000; samesite=lax`;
  }, [zone]);
  return <ServerZone.Provider value={zone}>{children}</ServerZone.Provider>;
}

/** The zone to render times in: the cookie's on the server, the browser's once hydrated. */
export function useReaderZone(): string {
  const known = useContext(ServerZone);
  return useSyncExternalStore(noSubscription, browserZone, () => known ?? "UTC");
}

/** The zone's short name, said once where a page explains its times ("GMT-3"). */
export function ZoneName() {
  return <>{zoneName(useReaderZone())}</>;
}
