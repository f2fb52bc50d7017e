import { quick } from "./options.ts";

// The bench's table: every figure beside its baseline, measured in the same run.

export type Row = {
  scenario: string;
  metric: string;
  ours: string;
  baseline: string;
  ratio: string;
  target: string;
  met: "yes" | "no" | "";
};
export const rows: Row[] = [];
export const details: Record<string, unknown> = {};
export const fmt = (n: number, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : "—");
export const progress = (line: string) => console.log(`▶ ${line}`);

export function row(
  scenario: string,
  metric: string,
  ours: number,
  baseline: number,
  unit: string,
  target?: { text: string; met: boolean },
) {
  rows.push({
    scenario,
    metric,
    ours: `${fmt(ours)} ${unit}`,
    baseline: `${fmt(baseline)} ${unit}`,
    ratio: `${fmt(ours / baseline, 2)}×`,
    target: target?.text ?? "",
    met: target ? (target.met ? "yes" : "no") : "",
  });
}

/** The middle of an odd number of alternating rounds by `measure`: on a shared 2-core machine one round is noise. */
/** A row whose figures are words, not numbers: no ratio. */
export function plain(
  scenario: string,
  metric: string,
  ours: string,
  baseline: string,
  target: string,
  met: boolean | null,
) {
  rows.push({ scenario, metric, ours, baseline, ratio: "", target, met: met === null ? "" : met ? "yes" : "no" });
}

/** What a scenario module reports through, when it takes it as an argument (bench/scenarios/keeper.ts). */
export const report = { row, plain, details, progress };
export type Report = typeof report;

export const medianRound = <T>(rounds: T[], measure: (round: T) => number): T =>
  [...rounds].sort((a, b) => measure(a) - measure(b))[Math.floor(rounds.length / 2)]!;

export function printTable(machine: Record<string, unknown>) {
  console.log(
    `\n${Object.entries(machine)
      .map(([k, v]) => `${k}: ${v}`)
      .join(" · ")}${quick ? " · quick mode" : ""}\n`,
  );
  const headers: (keyof Row)[] = ["scenario", "metric", "ratio", "ours", "baseline", "target", "met"];
  const widths = headers.map((h) => Math.max(h.length, ...rows.map((r) => r[h].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(" | ")} |`;
  console.log(line(headers));
  console.log(`|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`);
  for (const r of rows) console.log(line(headers.map((h) => r[h])));
}
