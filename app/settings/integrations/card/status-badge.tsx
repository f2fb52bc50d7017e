import { When } from "@/app/components/when.tsx";
import { badgeOf, type Condition } from "@/lib/pipedrive/conditions.ts";

/** The card's badge: the worst condition in force, in a word or two. */
export function StatusBadge({
  condition,
  isAdmin,
  uninstalled,
}: {
  condition: Condition | null;
  isAdmin: boolean;
  uninstalled: boolean;
}) {
  if (!condition && uninstalled) return <span className="badge badge-warn">Uninstalled in Pipedrive</span>;
  if (!condition) return <span className="badge badge-idle">Not connected</span>;
  const { text, tone } = badgeOf(condition, isAdmin);
  return (
    <span className={`badge badge-${tone}`}>
      {text}
      {condition.kind === "paused" && (
        <>
          {" "}
          <When date={condition.until} />
        </>
      )}
    </span>
  );
}
