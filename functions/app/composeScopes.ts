import type { Firestore } from "firebase-admin/firestore";
import { FirestoreScopeStore } from "../adapters/firestore/firestoreScopeStore";
import { MemoryScopeStore } from "../adapters/memory/memoryScopeStore";
import type { MemoryState } from "../adapters/memory/memoryState";
import type { ServiceConfig } from "../config/settings";
import type { Pseudonymizer } from "../engine/pseudonymizer";
import type { SaltCache } from "../engine/saltCache";
import { ScopeCache } from "../engine/scopeCache";
import { ScopedPseudonymizer } from "../engine/scopedPseudonymizer";
import { LINK_PREVIOUS, type MetricsRecorder } from "../observability/metrics";
import type { BackendDeps } from "../ports/backendDeps";
import type { PepperSource } from "../ports/secrets";
import type { Services } from "../usecases/deps";

/** The scope store, its cache and the scoped pseudonymizer, built with the rest of the services. */
export function composeScopes(o: {
  config: ServiceConfig;
  clock: () => Date;
  firestore: Firestore | null;
  memory: MemoryState;
  backendDeps: BackendDeps;
  cache: SaltCache;
  pepper: PepperSource;
  pseudonymizer: Pseudonymizer;
  metrics: MetricsRecorder;
}): Pick<Services, "scopes" | "scopeCache" | "scoped"> {
  const scopes = o.firestore
    ? new FirestoreScopeStore(o.firestore, o.backendDeps, o.config.firestoreTimeoutMs)
    : new MemoryScopeStore(o.backendDeps, o.memory);
  const scopeCache = new ScopeCache(scopes, {
    ttlMs: o.config.cacheTtlSeconds * 1000,
    staleMaxMs: o.config.staleMaxSeconds * 1000,
    clock: () => o.clock().getTime(),
  });
  const onLink = (given: boolean) => {
    o.metrics.record(LINK_PREVIOUS, given ? "success" : "denied", 0);
    // A function using the library has no call pipeline of ours: its counts are written as an interval is due.
    void o.metrics.settle();
  };
  const scoped = new ScopedPseudonymizer(o.pseudonymizer, o.cache, o.pepper, scopeCache, {
    clock: o.clock,
    linkWindowHours: () => o.config.linkWindowHours,
    onLink,
  });
  return { scopes, scopeCache, scoped };
}
