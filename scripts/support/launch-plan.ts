// What `npm run dev` and `npm start` may start, decided from the environment before anything
// starts. A demo (embedded PostgreSQL, mock Pipedrive, demo users with published passwords) is
// what `npm run dev` is for; `npm start` runs one only when asked by name (DEMO=1), and then
// only with nothing a deployment would set. Any other `npm start` is a deployment: a missing
// setting is an error naming it, never a fall back to the demo.

type Settings = Record<string, string | undefined>;

export type LaunchPlan =
  | { refused: string }
  /**
   * demo: the mock stands in for Pipedrive. seed: the demo users, whose passwords are published,
   * may be added (into an embedded database only): never beside a setting a deployment has.
   */
  | { demo: boolean; seed: boolean };

const REQUIRED_FOR_DEPLOYMENT = [
  "DATABASE_URL",
  "PIPEDRIVE_CLIENT_ID",
  "PIPEDRIVE_CLIENT_SECRET",
  "AUTH_SECRET",
  "APP_URL",
] as const;

const set = (settings: Settings, name: string) => Boolean(settings[name]);

/** The explicit opt-in to the demo under `npm start`. */
export const demoRequested = (settings: Settings) => settings.DEMO === "1";

/**
 * Whether APP_URL names a place only a deployment serves: an https URL, or any host that is not
 * this machine. Parsed, never prefix-matched: "HTTPS://…" is https. Unparseable is not local.
 */
function appUrlIsDeployed(value: string | undefined): boolean {
  if (!value) return false;
  try {
    const url = new URL(value);
    return url.protocol !== "http:" || !["localhost", "127.0.0.1", "[::1]"].includes(url.hostname);
  } catch {
    return true;
  }
}

/** The settings a demo cannot be started beside, by name: each says "this is a real deployment". */
export function productionLikeSettings(settings: Settings): string[] {
  return [
    ...(["PIPEDRIVE_CLIENT_ID", "PIPEDRIVE_CLIENT_SECRET", "DATABASE_URL"] as const).filter((n) => set(settings, n)),
    ...(appUrlIsDeployed(settings.APP_URL) ? ["APP_URL (not http://localhost)"] : []),
  ];
}

/** Why `npm run dev` adds no demo users: the deployment settings it was started beside. */
export function deploymentSettingsBesideDev(settings: Settings): string[] {
  return [...productionLikeSettings(settings), ...(set(settings, "AUTH_SECRET") ? ["AUTH_SECRET"] : [])];
}

export function launchPlan(settings: Settings, options: { production: boolean }): LaunchPlan {
  const halfPipedrive = set(settings, "PIPEDRIVE_CLIENT_ID") !== set(settings, "PIPEDRIVE_CLIENT_SECRET");
  if (!options.production) {
    if (halfPipedrive) return { refused: refusal("npm run dev", ["PIPEDRIVE_CLIENT_ID", "PIPEDRIVE_CLIENT_SECRET"]) };
    return { demo: !set(settings, "PIPEDRIVE_CLIENT_ID"), seed: deploymentSettingsBesideDev(settings).length === 0 };
  }
  if (demoRequested(settings)) {
    const productionLike = productionLikeSettings(settings);
    if (productionLike.length === 0) return { demo: true, seed: true };
    return {
      refused: [
        `npm start refused to start: DEMO=1 runs the demo, whose passwords are published, but ${productionLike.join(", ")} ${productionLike.length > 1 ? "are" : "is"} set, as only a deployment has.`,
        `Unset DEMO for a deployment, or unset ${productionLike.join(", ")} for a local demo.`,
      ].join("\n"),
    };
  }
  const missing = REQUIRED_FOR_DEPLOYMENT.filter((name) => !set(settings, name));
  if (missing.length > 0) return { refused: refusal("npm start", missing) };
  if (set(settings, "PIPEDRIVE_MOCK_HOST"))
    return {
      refused: [
        "npm start refused to start: PIPEDRIVE_MOCK_HOST is set, which lets tokens go over plain http to a local mock.",
        "A deployment talks only to Pipedrive: unset PIPEDRIVE_MOCK_HOST, or run DEMO=1 npm start for a local demo.",
      ].join("\n"),
    };
  return { demo: false, seed: false };
}

function refusal(command: string, missing: readonly string[]): string {
  return [
    `${command} refused to start: these settings are missing: ${missing.join(", ")}.`,
    command === "npm start"
      ? `npm start is a deployment: set them (docs/operations.md, "Configuration"), or run DEMO=1 npm start for a local demo.`
      : `Set both for a real Pipedrive app, or neither for the demo.`,
  ].join("\n");
}
