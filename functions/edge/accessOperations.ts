import type { z } from "zod";
import type { CallableSpec } from "./callable";
import { controlSchemas } from "./controlSchemas";

const op = <S extends z.ZodType, R extends object>(spec: CallableSpec<S, R>) => spec;

/** Access: who holds a role, and granting or clearing one (audited; guardable as `set_role`). */
export const ACCESS_OPERATIONS = {
  roles: op({
    operation: "roles",
    role: "auditor",
    mutating: false,
    schema: controlSchemas.roles,
    run: async (s, _ctx, i) => (await import("../usecases/access.js")).listRoles(s, i),
  }),
  setRole: op({
    operation: "set_role",
    role: "admin",
    mutating: true,
    schema: controlSchemas.setRole,
    run: async (s, ctx, i) => (await import("../usecases/access.js")).setRole(s, ctx, i),
  }),
} as const;
