import { ROUTES } from "@/lib/routes.ts";

import type { Banner } from "../banners.ts";
import { ConnectButton } from "./connect-button.tsx";

/** How a flow ended, after its redirect back here. */
export function OutcomeBanner({ banner, canConnect }: { banner: Banner; canConnect: boolean }) {
  return (
    // Focused on load (no script needed), so a screen reader announces how the flow ended.
    <div
      className={`banner banner-${banner.tone}`}
      role={banner.tone === "error" ? "alert" : "status"}
      tabIndex={-1}
      autoFocus
    >
      <div>
        <p className="banner-title">{banner.title}</p>
        <p>{banner.body}</p>
        {banner.offerConnect && canConnect && <ConnectButton label="Connect Pipedrive" primary={false} />}
      </div>
      <a href={ROUTES.settings} className="dismiss" aria-label="Dismiss message">
        ×
      </a>
    </div>
  );
}
