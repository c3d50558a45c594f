import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

const SRC = path.resolve(__dirname, "../../functions");

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? files(full) : full.endsWith(".ts") ? [full] : [];
  });
}

const modules = files(SRC);
const rel = (f: string) => path.relative(SRC, f).replace(/\.ts$/, "");
const layerOf = (f: string) => rel(f).split(path.sep)[0]!;

/** Relative imports of a module (static, dynamic and require), as module ids. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, "utf8");
  const specs = [...text.matchAll(/(?:\bfrom|\bimport\s*\(?|\brequire\()\s*"(\.[^"]+)"/g)].map((m) => m[1]!);
  // Dynamic imports name the built file (`import("./x.js")`): the module is x.ts.
  return specs.map((s) => rel(path.resolve(path.dirname(file), s.replace(/\.js$/, ""))));
}

const graph = new Map(modules.map((f) => [rel(f), importsOf(f)]));

/**
 * Which layers each layer may import (besides itself). Dependencies point inward:
 * triggers -> app -> edge -> usecases -> engine -> ports -> domain; adapters implement ports.
 */
const ALLOWED: Record<string, string[]> = {
  domain: [],
  ports: ["domain"],
  engine: ["domain", "ports"],
  observability: ["domain", "ports"],
  config: ["domain"],
  usecases: ["domain", "ports", "engine", "observability", "config"],
  adapters: ["domain", "ports", "config", "observability"],
  edge: ["domain", "ports", "engine", "usecases", "observability", "config"],
  app: ["domain", "ports", "engine", "usecases", "observability", "config", "adapters", "edge"],
  triggers: ["app", "edge", "config", "domain", "usecases", "observability"],
  cli: ["app", "edge", "config", "domain", "ports", "usecases", "observability", "engine"],
};
// Entry points at the root of functions/.
const ROOT_ENTRIES: Record<string, string[]> = {
  index: ["triggers"],
  pseudonymize: ["app", "domain", "engine"],
  cli: ALLOWED.cli!,
};

describe("architecture of functions/", () => {
  it("when any module imports another, then it respects the layering (dependencies point inward)", () => {
    const violations: string[] = [];
    for (const [from, deps] of graph) {
      const layer = from.includes(path.sep) ? layerOf(path.join(SRC, from)) : from;
      const allowed = from.includes(path.sep) ? ALLOWED[layer] : ROOT_ENTRIES[from];
      expect(allowed, `unknown layer of ${from}`).toBeDefined();
      for (const to of deps) {
        const target = to.split(path.sep)[0]!;
        if (target !== layer && !allowed!.includes(target)) violations.push(`${from} -> ${to}`);
      }
    }
    expect(violations).toEqual([]);
  });

  it("when the import graph is walked, then it has no cycle", () => {
    const state = new Map<string, "open" | "done">();
    const cycles: string[] = [];
    const visit = (m: string, trail: string[]) => {
      if (state.get(m) === "done") return;
      if (state.get(m) === "open") {
        cycles.push([...trail.slice(trail.indexOf(m)), m].join(" -> "));
        return;
      }
      state.set(m, "open");
      for (const d of graph.get(m) ?? []) visit(d, [...trail, m]);
      state.set(m, "done");
    };
    for (const m of graph.keys()) visit(m, []);
    expect(cycles).toEqual([]);
  });

  it("when a source file is read, then it fits in one sitting (at most 300 lines)", () => {
    const long = modules
      .map((f) => [rel(f), readFileSync(f, "utf8").split("\n").length] as const)
      .filter(([, n]) => n > 300);
    expect(long).toEqual([]);
  });

  it("when the domain is read, then it imports nothing from Firebase", () => {
    const firebase = modules
      .filter((f) => layerOf(f) === "domain")
      .filter((f) => /from "firebase|require\("firebase/.test(readFileSync(f, "utf8")));
    expect(firebase.map(rel)).toEqual([]);
  });
});
