// The local emulators, one concern per module in scripts/lib; this file is their index.
export { ROOT, TMP, installCleanup, stopAll } from "./lib/processes.mjs";
export { pickPort, waitFor } from "./lib/net.mjs";
export { ensureFirestore, firestorePlan, javaMajor, MissingEmulatorError } from "./lib/firestore.mjs";
export { DEMO_BIGQUERY_INVOKER, PROJECT_ID, startFirebaseEmulators } from "./lib/firebase.mjs";
export { startFaultProxy } from "./lib/faultProxy.mjs";
export { ensureLocalSecrets, readSecrets } from "./lib/secrets.mjs";
export { LocalSecretManager, startLocalSecretManager } from "./lib/secretManager.mjs";
export { LOCAL_ANCHOR_BUCKET, LocalCloudStorage, startLocalCloudStorage } from "./lib/cloudStorage.mjs";
export { createSubscription, createTopic, ensurePubsub, EVENTS_TOPIC, pubsubPlan } from "./lib/pubsub.mjs";
