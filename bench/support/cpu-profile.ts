import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";

import { ROOT } from "../../scripts/support/local-env.ts";

// Reads a V8 CPU profile (`node --cpu-prof`) and says where the time went within a window of
// the run, so a profile taken over a whole bench reports each scenario's load on its own.

type CallFrame = { functionName: string; url: string; lineNumber: number; columnNumber: number };
type CpuProfile = {
  nodes: { id: number; callFrame: CallFrame }[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
};

export type SelfTime = { entry: string; selfMs: number; share: number };
/** A stretch of the run under one load; windows of the same name are read as one. */
export type ProfileWindow = { name: string; from: bigint; to: bigint };

/** Microseconds on the clock V8 stamps samples with (CLOCK_MONOTONIC, as process.hrtime). */
export const profileClock = () => process.hrtime.bigint() / 1000n;

export const readProfile = (file: string) => JSON.parse(readFileSync(file, "utf8")) as CpuProfile;

/**
 * The main thread's profile in `dir`: the largest one. Worker threads (tsx's loader hooks) write
 * their own, nearly empty.
 */
export function mainThreadProfile(dir: string): string {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith(".cpuprofile"))
    .map((f) => path.join(dir, f));
  if (!files.length) throw new Error(`no .cpuprofile in ${dir}`);
  return files.sort((a, b) => statSync(b).size - statSync(a).size)[0]!;
}

function where(frame: CallFrame): string {
  let url = frame.url.replace(/^file:\/\//, "");
  if (url.startsWith(ROOT)) url = path.relative(ROOT, url);
  const name = frame.functionName || "(anonymous)";
  if (!url) return name;
  return `${name} ${url}:${frame.lineNumber + 1}:${frame.columnNumber + 1}`;
}

/** Which package (or our own code, or V8's bookkeeping) a frame belongs to. */
function packageOf(frame: CallFrame): string {
  const url = frame.url;
  if (!url) return frame.functionName.startsWith("(") ? frame.functionName : "(native)";
  if (url.startsWith("node:")) return "node";
  const modules = url.lastIndexOf("node_modules/");
  if (modules >= 0) {
    const parts = url.slice(modules + "node_modules/".length).split("/");
    const name = parts[0]!.startsWith("@") ? `${parts[0]}/${parts[1]}` : parts[0]!;
    // Next ships React, its server runtime and its own copies of libraries precompiled.
    const compiled = url.match(/next\/dist\/compiled\/((?:@[^/]+\/)?[^/]+)/);
    return compiled ? `next (compiled ${compiled[1]})` : name;
  }
  if (url.includes("/.next/server/")) return "app bundle (.next/server)";
  return "other";
}

/** The top `count` self-time entries, and the share per package, of the samples inside the windows. */
export function selfTimes(profile: CpuProfile, name: string, windows: ProfileWindow[], count = 10) {
  const frames = new Map(profile.nodes.map((node) => [node.id, node.callFrame]));
  const byEntry = new Map<string, number>();
  const byPackage = new Map<string, number>();
  let at = BigInt(profile.startTime);
  let total = 0;
  let idle = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    at += BigInt(profile.timeDeltas[i] ?? 0);
    if (!windows.some((w) => at >= w.from && at <= w.to)) continue;
    const us = profile.timeDeltas[i + 1] ?? 0;
    const frame = frames.get(profile.samples[i]!)!;
    if (frame.functionName === "(idle)") {
      idle += us;
      continue;
    }
    total += us;
    const entry = where(frame);
    byEntry.set(entry, (byEntry.get(entry) ?? 0) + us);
    const pkg = packageOf(frame);
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + us);
  }
  const ranked = (map: Map<string, number>, n: number): SelfTime[] =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([entry, us]) => ({ entry, selfMs: us / 1000, share: total ? us / total : 0 }));
  return {
    window: name,
    busyMs: total / 1000,
    idleMs: idle / 1000,
    top: ranked(byEntry, count),
    packages: ranked(byPackage, 12),
  };
}

/** Each load's top entries and packages, as Markdown for bench/results/. */
export function profileReport(
  file: string,
  windows: ProfileWindow[],
): { markdown: string; loads: ReturnType<typeof selfTimes>[] } {
  const profile = readProfile(file);
  const names = [...new Set(windows.map((w) => w.name))];
  const loads = names.map((name) =>
    selfTimes(
      profile,
      name,
      windows.filter((w) => w.name === name),
    ),
  );
  const ms = (n: number) => n.toFixed(0);
  const pct = (n: number) => `${(n * 100).toFixed(1)} %`;
  const markdown = loads
    .map((load) =>
      [
        `## ${load.window}`,
        "",
        `CPU busy ${ms(load.busyMs)} ms, idle ${ms(load.idleMs)} ms.`,
        "",
        "| self time | share | function and place |",
        "|---|---|---|",
        ...load.top.map((t) => `| ${ms(t.selfMs)} ms | ${pct(t.share)} | \`${t.entry.replace(/\|/g, "\\|")}\` |`),
        "",
        "| package | self time | share |",
        "|---|---|---|",
        ...load.packages.map((p) => `| ${p.entry} | ${ms(p.selfMs)} ms | ${pct(p.share)} |`),
        "",
      ].join("\n"),
    )
    .join("\n");
  return { markdown, loads };
}
