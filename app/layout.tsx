import type { Metadata } from "next";
import { cookies } from "next/headers";
import type { ReactNode } from "react";

import { validZone, ZONE_COOKIE } from "@/lib/time-zone.ts";

import { ZoneProvider } from "./components/zone.tsx";

import "./globals.css";

export const metadata: Metadata = {
  title: { default: "CRM", template: "%s · CRM" },
  description: "CRM settings and integrations",
};

export default async function RootLayout({ children }: { children: ReactNode }) {
  const raw = (await cookies()).get(ZONE_COOKIE)?.value;
  const zone = validZone(raw ? safeDecode(raw) : null);
  return (
    <html lang="en">
      <body>
        <ZoneProvider zone={zone}>{children}</ZoneProvider>
      </body>
    </html>
  );
}

function safeDecode(value: string): string | null {
  try {
    return decodeURIComponent(value);
  } catch {
    return null;
  }
}
