import { readFileSync } from "node:fs";
import { BaseSequencer, type TestSpecification } from "vitest/node";

/**
 * Vitest's order (files it has not timed first, then the slowest), except that a file which cuts the
 * functions off from Firestore (through the fault proxy whose control URL is FUNCTIONS_FIRESTORE_PROXY) runs
 * last in its project. A cut is not undone for every function worker of the shared emulator when the proxy is
 * restored: a worker whose gRPC channel failed to reconnect during the cut waits out its reconnect backoff, and
 * its next call can outlast FIRESTORE_TIMEOUT_MS (an `unavailable` a CI run once gave the approvals e2e, the
 * file after the cut).
 */
export default class CutsLastSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const project = new Map<string, number>();
    for (const f of sorted) if (!project.has(f.project.name)) project.set(f.project.name, project.size);
    const cuts = (f: TestSpecification) =>
      readFileSync(f.moduleId, "utf8").includes("FUNCTIONS_FIRESTORE_PROXY") ? 1 : 0;
    return sorted
      .map((file, at) => ({ file, at, last: cuts(file) }))
      .sort(
        (a, b) =>
          project.get(a.file.project.name)! - project.get(b.file.project.name)! ||
          a.last - b.last ||
          a.at - b.at,
      )
      .map((x) => x.file);
  }
}
