import type { ReactNode } from "react";

/** A warning about the connection; the button that fixes it, when there is one, goes inside. */
export function WarnBanner({ title, children }: { title: string; children: ReactNode }) {
  return (
    <div className="banner banner-warn" role="status">
      <div>
        <p className="banner-title">{title}</p>
        {children}
      </div>
    </div>
  );
}
