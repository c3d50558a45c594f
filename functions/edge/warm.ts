import type { Services } from "../usecases/deps";

/**
 * Secrets a callable's function binds besides the audit key: the pepper, the salt-encryption key
 * (declared with the trigger in triggers/callables.ts; least privilege, checked by a test).
 */
export type SecretNeed = "pepper" | "key";

// The services (one set per instance) whose secrets have started loading.
const warming = new WeakSet<object>();

/**
 * On an instance's first signed-in call (a callable's, before its rate limit: once per instance whatever
 * that call's fate; a BigQuery batch from a listed invoker), the secrets its function binds (the audit
 * key, and the pepper or the salt-encryption key where declared) start loading in the background,
 * together, while the call's rate limiter, Auth lookup and first reads are on the wire: Secret Manager's
 * client loads and its accesses run once, concurrently, instead of one after the other where each is
 * first needed.
 * Nothing waits on it and nothing is decided by it: each secret is read again where it is used
 * (SecretManagerSecret shares a load in flight), and a failure is met, and reported, there.
 */
export function warmSecrets(
  rt: Pick<Services, "auditKey" | "keys" | "pepper">,
  needs: readonly SecretNeed[],
): void {
  if (warming.has(rt)) return;
  warming.add(rt);
  const secrets = [
    rt.auditKey,
    ...(needs.includes("key") ? [rt.keys] : []),
    ...(needs.includes("pepper") ? [rt.pepper] : []),
  ];
  // After this turn of the event loop: the call's rate-limiter request goes out first.
  setImmediate(() => {
    for (const secret of secrets) secret.current().catch(() => undefined);
  });
}
