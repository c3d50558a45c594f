import type { z } from "zod";
import { listRoles, setRole } from "../usecases/access";
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
    secrets: [],
    run: (s, _ctx, i) => listRoles(s, i),
  }),
  setRole: op({
    operation: "set_role",
    role: "admin",
    mutating: true,
    schema: controlSchemas.setRole,
    secrets: [],
    run: (s, ctx, i) => setRole(s, ctx, i),
  }),
} as const;
