#!/usr/bin/env node
// A tiny Prisma generator: writes the datamodel exactly as Prisma parsed it, so the
// drift test compares the migrated database with schema.prisma without a hand-made parser.
// Protocol: JSON-RPC requests on stdin, one per line; answers on stderr.
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import readline from "node:readline";

const answer = (id, result) => process.stderr.write(JSON.stringify({ jsonrpc: "2.0", id, result }) + "\n");

readline.createInterface({ input: process.stdin }).on("line", (line) => {
  const request = JSON.parse(line);
  if (request.method === "getManifest") {
    answer(request.id, {
      manifest: { prettyName: "Datamodel snapshot", defaultOutput: "../lib/generated/datamodel.json" },
    });
  } else if (request.method === "generate") {
    const output = request.params.generator.output.value;
    mkdirSync(dirname(output), { recursive: true });
    writeFileSync(output, JSON.stringify(request.params.dmmf.datamodel, null, 2));
    answer(request.id, null);
  }
});
