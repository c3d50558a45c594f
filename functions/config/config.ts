import { failedPrecondition } from "../domain/errors";
import type { RotationPolicy } from "../domain/policy";
import { FIRESTORE_RAMP, type Ramp } from "../domain/ramp";
import { SETTINGS, type ServiceConfig, type Setting, type SettingKey } from "./settings";

export type { ServiceConfig } from "./settings";

type Value = number | boolean | string | null;

/**
 * One variable's value by its setting's type, default and bounds; `undefined` when malformed.
 * Parsed by hand from the settings table rather than through zod: every function reads its
 * configuration when its module loads (deploy options), and zod alone takes ~0.1 s to load.
 */
function parseSetting(s: Setting, raw: string | undefined): Value | undefined {
  // An empty variable is an unset one (the Functions runtime and `.env` files write "" for blanks).
  if (raw === undefined || raw === "") return s.default;
  switch (s.type) {
    case "int":
    case "number": {
      const n = Number(raw);
      const whole = s.type === "number" || Number.isInteger(n);
      return Number.isFinite(n) && whole && n >= s.min && n <= s.max ? n : undefined;
    }
    case "bool":
      return raw === "true" ? true : raw === "false" ? false : undefined;
    case "enum":
      return s.options.includes(raw) ? raw : undefined;
    case "string":
      return !s.pattern || s.pattern.test(raw) ? raw : undefined;
  }
}

type Env = Record<string, string | undefined>;

/**
 * Parses every setting from the environment in one pass; a bad value is a
 * clear failed-precondition naming the variable, never a silent default.
 */
export function readConfig(env: Env = process.env): ServiceConfig {
  const config: Record<string, Value> = {};
  const bad: string[] = [];
  for (const [key, s] of Object.entries(SETTINGS) as [SettingKey, Setting][]) {
    const raw = key === "projectId" ? (env[s.env] ?? env.GOOGLE_CLOUD_PROJECT) : env[s.env];
    const value = parseSetting(s, raw);
    if (value === undefined) bad.push(s.env);
    else config[key] = value;
  }
  if (bad.length > 0) throw failedPrecondition(`Invalid service configuration: ${bad.join(", ")}`);
  return config as unknown as ServiceConfig;
}

/** The defaults alone: what a deployment with nothing set would run with. */
export const defaultConfig = (): ServiceConfig => readConfig({});

/** The write ramp batch jobs follow (domain/ramp). */
export const rampOf = (c: Pick<ServiceConfig, "rampStartOps" | "rampMaxOps">): Ramp => ({
  startOps: c.rampStartOps,
  maxOps: Math.max(c.rampStartOps, c.rampMaxOps),
  ...FIRESTORE_RAMP,
});

export const policyOf = (
  c: Pick<ServiceConfig, "userDays" | "globalDays" | "rotationJitter">,
): RotationPolicy => ({
  userDays: c.userDays,
  globalDays: c.globalDays,
  jitter: c.rotationJitter,
});
