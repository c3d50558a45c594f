import { defineConfig } from "vitest/config";
import CutsLastSequencer from "./test/support/sequencer";

export default defineConfig({
  test: {
    // Nothing in the tests may reach for a cloud metadata server (a non-loopback address).
    env: { METADATA_SERVER_DETECTION: "none" },
    // A file that cuts the functions off from Firestore runs last in its project (test/support/sequencer.ts).
    sequence: { sequencer: CutsLastSequencer },
    projects: [
      {
        extends: true,
        test: {
          name: "unit",
          include: ["test/unit/**/*.test.ts"],
        },
      },
      {
        extends: true,
        test: {
          name: "emulator",
          include: ["test/emulator/**/*.test.ts"],
          // Tests share one Firestore emulator; files run one at a time so clears do not interfere.
          fileParallelism: false,
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
      {
        extends: true,
        test: {
          // The console in Debian's Chromium against the local stack (scripts/console-browser-lane.mjs).
          name: "browser",
          include: ["test/browser/**/*.test.ts"],
          fileParallelism: false,
          testTimeout: 180_000,
          hookTimeout: 180_000,
          // The emulators start a worker per function on first use: allow for cold starts.
          expect: { poll: { timeout: 20_000, interval: 100 } },
        },
      },
    ],
  },
});
