// What `npm run dev` and `npm start` may start, decided from the environment before anything
// starts. A demo (embedded PostgreSQL, mock Pipedrive, demo users with published passwords) is
// for development and for a production build started with nothing production-like set. Once
// any production-like setting is present, a missing one is an error, never a fall back to the demo.

type Settings = Record<string, string | undefined>;

export type LaunchPlan =
  | { refused: string }
  /** demo: the mock stands in for Pipedrive. Demo users are seeded only into an embedded database. */
  | { demo: boolean };

const REQUIRED_FOR_DEPLOYMENT = [
  "DATABASE_URL",
  "PIPEDRIVE_CLIENT_ID",
  "PIPEDRIVE_CLIENT_SECRET",
  "AUTH_SECRET",
  "APP_URL",
] as const;

const set = (settings: Settings, name: string) => Boolean(settings[name]);

/** The settings that say "this is a real deployment", by name. */
export function productionLikeSettings(settings: Settings): string[] {
  return [
    ...(["PIPEDRIVE_CLIENT_ID", "PIPEDRIVE_CLIENT_SECRET", "DATABASE_URL"] as const).filter((n) => set(settings, n)),
    ...(settings.APP_URL?.startsWith("https://") ? ["APP_URL (https)"] : []),
  ];
}

export function launchPlan(settings: Settings, options: { production: boolean }): LaunchPlan {
  const halfPipedrive = set(settings, "PIPEDRIVE_CLIENT_ID") !== set(settings, "PIPEDRIVE_CLIENT_SECRET");
  if (!options.production) {
    if (halfPipedrive) return { refused: refusal("npm run dev", ["PIPEDRIVE_CLIENT_ID", "PIPEDRIVE_CLIENT_SECRET"]) };
    return { demo: !set(settings, "PIPEDRIVE_CLIENT_ID") };
  }
  const productionLike = productionLikeSettings(settings);
  if (productionLike.length === 0) return { demo: true };
  const missing = REQUIRED_FOR_DEPLOYMENT.filter((name) => !set(settings, name));
  if (missing.length > 0) return { refused: refusal("npm start", missing, productionLike) };
  return { demo: false };
}

function refusal(command: string, missing: readonly string[], because: string[] = []): string {
  const reason =
    because.length > 0
      ? ` ${because.join(", ")} ${because.length > 1 ? "are" : "is"} set, so this is a real deployment, and`
      : "";
  return [
    `${command} refused to start:${reason} these settings are missing: ${missing.join(", ")}.`,
    `Set them (README, "Configuration"), or unset ${because.length > 0 ? because.join(", ") : "them all"} for a local demo.`,
  ].join("\n");
}
