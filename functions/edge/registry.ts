import { ACCESS_OPERATIONS } from "./accessOperations";
import { APPROVAL_OPERATIONS } from "./approvalOperations";
import { OPERATIONS } from "./operations";

/**
 * Every callable operation, by callable name: those of operations.ts, access
 * and dual control (kept apart because approving runs the others). The
 * triggers and the CLI's direct mode read this.
 */
export const ALL_OPERATIONS = { ...OPERATIONS, ...ACCESS_OPERATIONS, ...APPROVAL_OPERATIONS } as const;

export type CallableName = keyof typeof ALL_OPERATIONS;
