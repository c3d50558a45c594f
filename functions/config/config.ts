import { z } from "zod";
import { failedPrecondition } from "../domain/errors";
import type { RotationPolicy } from "../domain/policy";
import { FIRESTORE_RAMP, type Ramp } from "../domain/ramp";
import { SETTINGS, type ServiceConfig, type Setting, type SettingKey } from "./settings";

export type { ServiceConfig } from "./settings";

// An empty variable is an unset one (the Functions runtime and `.env` files write "" for blanks).
const unsetIfEmpty = (v: unknown) => (v === "" ? undefined : v);

function schemaOf(s: Setting): z.ZodType {
  switch (s.type) {
    case "int":
      return z.coerce.number().int().min(s.min).max(s.max).default(s.default);
    case "number":
      return z.coerce.number().min(s.min).max(s.max).default(s.default);
    case "bool":
      return z
        .enum(["true", "false"], { message: "must be true or false" })
        .transform((v) => v === "true")
        .default(s.default);
    case "enum":
      return z
        .enum(s.options as [string, ...string[]])
        .nullable()
        .default(s.default);
    case "string": {
      const base = s.pattern ? z.string().regex(s.pattern) : z.string();
      return base.nullable().default(s.default);
    }
  }
}

const shape = Object.fromEntries(
  Object.entries(SETTINGS).map(([key, s]) => [key, z.preprocess(unsetIfEmpty, schemaOf(s))]),
);
const configSchema = z.object(shape);

type Env = Record<string, string | undefined>;

/**
 * Parses every setting from the environment in one pass; a bad value is a
 * clear failed-precondition naming the variable, never a silent default.
 */
export function readConfig(env: Env = process.env): ServiceConfig {
  const raw: Record<string, unknown> = {};
  for (const [key, s] of Object.entries(SETTINGS) as [SettingKey, Setting][]) raw[key] = env[s.env];
  raw.projectId ??= env.GOOGLE_CLOUD_PROJECT;
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    const names = parsed.error.issues.map((i) => SETTINGS[i.path[0] as SettingKey]?.env ?? i.path.join("."));
    throw failedPrecondition(`Invalid service configuration: ${[...new Set(names)].join(", ")}`);
  }
  return parsed.data as ServiceConfig;
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
