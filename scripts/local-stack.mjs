// Starts the local stack: Firestore emulator, Auth + Functions + Cloud Tasks emulators, demo users
// and demo salts; prints how to call it; stops everything on Ctrl-C.
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import {
  createSubscription,
  DEMO_BIGQUERY_INVOKER,
  ensureFirestore,
  ensureLocalSecrets,
  ensurePubsub,
  EVENTS_TOPIC,
  installCleanup,
  PROJECT_ID,
  ROOT,
  startFirebaseEmulators,
  startLocalCloudStorage,
  startLocalSecretManager,
  stopAll,
} from "./emulators.mjs";
import {
  batchUrl,
  callFunction,
  DEMO_USERS,
  demoBatchBody,
  ensureDemoUser,
  signIn,
  unsignedIdToken,
} from "./stack-client.mjs";
import { consoleBanner, startConsoleHosting, stopConsoleHosting } from "./console-hosting.mjs";

const EVENTS_SUBSCRIPTION = "salts-events-local";

/** The Pub/Sub emulator's line of the banner, or why events are not published. */
function pubsubBanner(pubsub) {
  if (pubsub.missing)
    return `  Pub/Sub emulator     NOT RUNNING: ${pubsub.missing} Events stay in the outbox (salts_events).`;
  return `  Pub/Sub emulator     ${pubsub.host}   (topic ${EVENTS_TOPIC}; subscription ${EVENTS_SUBSCRIPTION}, ordered)`;
}

/** How to read the events the service published. */
function pubsubPull(pubsub) {
  if (pubsub.missing) return "";
  const sub = `http://${pubsub.host}/v1/projects/${PROJECT_ID}/subscriptions/${EVENTS_SUBSCRIPTION}`;
  return `Events (every salt created, rotated, erased; every finished job) from the Pub/Sub emulator:
  curl -s -X POST '${sub}:pull' -H 'Content-Type: application/json' -d '{"maxMessages":10}'
  (each message's data is base64 JSON; with jq: ... | jq -r '.receivedMessages[].message.data | @base64d')
  Acknowledge what you read: curl -s -X POST '${sub}:acknowledge' -H 'Content-Type: application/json' -d '{"ackIds":["<ackId>"]}'
`;
}

installCleanup();
try {
  const firestore = await ensureFirestore();
  // The functions read their secrets through Secret Manager's API, from a local server holding .secret.local.
  const secretManager = await startLocalSecretManager(PROJECT_ID, ensureLocalSecrets());
  process.on("exit", () => void secretManager.sm.stop());
  // Audit checkpoints are anchored in a retention-locked bucket of a local Cloud Storage server.
  const storage = await startLocalCloudStorage();
  process.on("exit", () => void storage.storage.stop());
  // Events go to the Pub/Sub emulator's topic; a subscription lets you pull them.
  const pubsub = await ensurePubsub(PROJECT_ID);
  if (pubsub.host) await createSubscription(pubsub.host, PROJECT_ID, EVENTS_SUBSCRIPTION);
  const hosts = await startFirebaseEmulators({
    firestore,
    // The demo invoker may call salts-pseudonymizeBatch (BigQuery's endpoint), with an unsigned token.
    env: {
      SECRET_MANAGER_EMULATOR_HOST: secretManager.host,
      STORAGE_EMULATOR_HOST: storage.host,
      AUDIT_ANCHOR_BUCKET: storage.bucket,
      BIGQUERY_INVOKERS: DEMO_BIGQUERY_INVOKER,
      ...(pubsub.host ? { PUBSUB_EMULATOR_HOST: pubsub.host } : {}),
    },
  });
  const state = { projectId: PROJECT_ID, ...hosts, pubsub: pubsub.host ?? null };
  mkdirSync(path.join(ROOT, ".tmp"), { recursive: true });
  writeFileSync(path.join(ROOT, ".tmp/stack.json"), JSON.stringify(state, null, 2));

  for (const user of Object.values(DEMO_USERS)) await ensureDemoUser(state, user);
  const token = await signIn(state, DEMO_USERS.admin);
  const seed = [
    ["rotateUser", { user_id: "alice", force: true, reason: "demo seed" }],
    ["rotateUser", { user_id: "bob", force: true, reason: "demo seed" }],
    ["rotateUser", { user_id: "carol@example.com", force: true, reason: "demo seed" }],
    ["rotateUser", { user_id: "alice", reason: "demo rotation" }],
    ["rotateGlobal", { event_type: "page_view", force: true, reason: "demo seed" }],
    ["rotateGlobal", { event_type: "signup", force: true, reason: "demo seed" }],
    ["rotateGlobal", { event_type: "purchase", force: true, reason: "demo seed" }],
  ];
  for (const [fn, data] of seed) {
    const r = await callFunction(state, fn, data, token);
    if (r.error) throw new Error(`seeding ${fn} failed: ${r.error.status} ${r.error.message}`);
  }
  const status = await callFunction(state, "status", {}, token);
  const bigquery = batchUrl(state);
  const bigqueryToken = unsignedIdToken(DEMO_BIGQUERY_INVOKER, bigquery);
  const bigqueryBody = JSON.stringify(demoBatchBody(PROJECT_ID));
  const web = await startConsoleHosting(hosts);
  const url = `http://${hosts.functions}/${PROJECT_ID}/us-central1/salts-status`;
  console.log(`
Local stack is up (project ${PROJECT_ID}); Ctrl-C stops everything.

  Firestore emulator   ${hosts.firestore}
  Auth emulator        ${hosts.auth}
  Functions emulator   ${hosts.functions}   (salts-status, salts-rotateUser, ...)
  Cloud Tasks emulator ${hosts.tasks}
  Secret Manager       ${secretManager.host}   (local server; version 1 of each secret is in .secret.local)
  Cloud Storage        ${storage.host}   (local server; audit checkpoints anchored in gs://${storage.bucket}, retention-locked)
${pubsubBanner(pubsub)}
${consoleBanner(web.url, DEMO_USERS)}

Demo users (Auth emulator):
  admin    ${DEMO_USERS.admin.email} / ${DEMO_USERS.admin.password}    (custom claim admin: true)
  auditor  ${DEMO_USERS.auditor.email} / ${DEMO_USERS.auditor.password}  (custom claim auditor: true)

Seeded: ${status.result.users.total} user salts, ${status.result.globals.total} global salts.

Operator CLI (in another terminal):
  export FUNCTIONS_EMULATOR_HOST=${hosts.functions} FIREBASE_AUTH_EMULATOR_HOST=${hosts.auth}
  npx salts login --project ${PROJECT_ID} --email ${DEMO_USERS.admin.email}    (password ${DEMO_USERS.admin.password})
  npx salts status
  npx salts rotate user alice --reason "try it"

Call the callables directly:
  node scripts/call.mjs status
  node scripts/call.mjs rotateUser '{"user_id":"alice"}'
  node scripts/call.mjs pseudonymizeTest '{"user_id":"alice","data":{"email":"alice@example.com","plan":"pro"},"fields":["email"]}'
  node scripts/call.mjs audit '{"user_id":"alice"}' --as auditor

${pubsubPull(pubsub)}
Or with curl (this ID token is valid for one hour; \`node scripts/call.mjs --token\` prints a fresh one):
  curl -s -X POST '${url}' \\
    -H 'Content-Type: application/json' \\
    -H 'Authorization: Bearer ${token}' \\
    -d '{"data":{}}'

BigQuery's remote-function endpoint (salts-pseudonymizeBatch; docs/BIGQUERY.md), as BigQuery calls it.
BIGQUERY_INVOKERS=${DEMO_BIGQUERY_INVOKER}; under the emulator an unsigned ID token names the caller:
  curl -s -X POST '${bigquery}' \\
    -H 'Content-Type: application/json' \\
    -H 'Authorization: Bearer ${bigqueryToken}' \\
    -d '${bigqueryBody}'
`);
  await new Promise(() => {});
} catch (e) {
  console.error(`\n${e.message}\n`);
  await stopConsoleHosting();
  await stopAll();
  process.exit(e.name === "MissingEmulatorError" ? 3 : 1);
}
