import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";

import ts from "typescript";
import { describe, expect, it } from "vitest";

// The source's import graph, type imports included: no loop, and no lower layer reaching up.

const ROOT = path.join(import.meta.dirname, "..");
const SOURCES = ["lib", "app", "scripts"];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === "generated" ? [] : sourceFiles(full);
    return /\.tsx?$/.test(entry.name) && !/\.(int\.)?test\.tsx?$/.test(entry.name) ? [full] : [];
  });
}

function resolve(from: string, specifier: string): string | null {
  const base = specifier.startsWith("@/")
    ? path.join(ROOT, specifier.slice(2))
    : specifier.startsWith(".")
      ? path.resolve(path.dirname(from), specifier)
      : null;
  if (!base || base.includes(`${path.sep}generated${path.sep}`)) return null;
  return (
    [base, `${base}.ts`, `${base}.tsx`].find((candidate) => /\.tsx?$/.test(candidate) && existsSync(candidate)) ?? null
  );
}

const graph = new Map(
  SOURCES.flatMap((dir) => sourceFiles(path.join(ROOT, dir))).map((file) => {
    const { importedFiles } = ts.preProcessFile(readFileSync(file, "utf8"), true, true);
    const targets = importedFiles.map((imported) => resolve(file, imported.fileName)).filter((t) => t !== null);
    return [path.relative(ROOT, file), targets.map((target) => path.relative(ROOT, target))];
  }),
);

/** Every cycle's files, each found once from its first file in the walk. */
function cycles(): string[][] {
  const found: string[][] = [];
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const walk = (file: string) => {
    state.set(file, "open");
    stack.push(file);
    for (const next of graph.get(file) ?? []) {
      if (state.get(next) === "open") found.push([...stack.slice(stack.indexOf(next)), next]);
      else if (!state.has(next)) walk(next);
    }
    stack.pop();
    state.set(file, "done");
  };
  for (const file of graph.keys()) if (!state.has(file)) walk(file);
  return found;
}

describe("the import graph", () => {
  it("reads the sources it is about", () => {
    expect(graph.size).toBeGreaterThan(100);
    expect(graph.get("lib/pipedrive/connection/connection-store.ts")).toContain(
      "lib/pipedrive/connection/move-store.ts",
    );
  });

  it("has no loop, type imports included", () => {
    expect(cycles()).toEqual([]);
  });

  it("keeps lower layers from reaching up", () => {
    const reachesUp = [...graph].flatMap(([file, targets]) =>
      targets
        .filter(
          (target) =>
            // Pipedrive's clients speak HTTP; what a call costs or means is their callers' business.
            (file.startsWith("lib/pipedrive/client/") && /^lib\/pipedrive\/(?!client\/)/.test(target)) ||
            // The pure model of a connection's life reads nothing but itself.
            (file === "lib/pipedrive/connection/lifecycle.ts" && target !== file) ||
            // lib/ never reaches into routes and pages, scripts or tests.
            (file.startsWith("lib/") && /^(app|scripts|e2e|testing|bench)\//.test(target)),
        )
        .map((target) => `${file} → ${target}`),
    );
    expect(reachesUp).toEqual([]);
  });
});
