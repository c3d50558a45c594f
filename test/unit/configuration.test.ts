import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { readConfig } from "../../functions/config/config";
import { SETTINGS } from "../../functions/config/settings";
import { README, tableIn, withTable } from "../../scripts/config-table";

describe("configuration", () => {
  it("when nothing is set, then every setting takes its declared default", () => {
    const config = readConfig({});
    for (const [key, s] of Object.entries(SETTINGS)) {
      expect(config[key as keyof typeof config], s.env).toBe(s.default);
    }
  });

  it("when values are set, then they are parsed to their types; blanks count as unset", () => {
    const config = readConfig({
      USER_SALT_ROTATION_DAYS: "45",
      ENABLE_METRICS: "true",
      SALT_BACKEND: "memory",
      ROTATE_INLINE_LIMIT: "",
    });
    expect(config).toMatchObject({ userDays: 45, enableMetrics: true, backend: "memory", inlineLimit: 2000 });
  });

  it("when a value is malformed or out of range, then failed-precondition names every bad variable", () => {
    expect(() =>
      readConfig({
        USER_SALT_ROTATION_DAYS: "0",
        ENABLE_METRICS: "yes",
        SALT_BACKEND: "redis",
        PEPPER_SECRET_VERSION: "v2",
      }),
    ).toThrow(
      expect.objectContaining({
        code: "failed-precondition",
        message: expect.stringMatching(
          /^(?=.*USER_SALT_ROTATION_DAYS)(?=.*ENABLE_METRICS)(?=.*SALT_BACKEND)(?=.*PEPPER_SECRET_VERSION)/,
        ),
      }),
    );
  });

  it("when the README is read, then its configuration table is the one generated from the settings", () => {
    const readme = readFileSync(README, "utf8");
    expect(tableIn(readme)).toBe(tableIn(withTable(readme)));
  });
});
