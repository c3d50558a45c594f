// The benchmark's baselines, measured beside the service's callables in the same run. Loaded only by
// `npm run bench` (scripts/with-emulators.mjs --bench, and fresh processes of bench/coldstart.ts); never
// deployed.
const { onCall } = require("firebase-functions/https");
const { getApps, initializeApp } = require("firebase-admin/app");
const { getFirestore } = require("firebase-admin/firestore");

// Opened when the module loads, in global scope, as a minimal Firestore-backed function opens its client.
const db = getFirestore(getApps()[0] ?? initializeApp());

/** A callable that does nothing: what the functions emulator and the callable protocol cost. */
exports.benchNoop = onCall(() => ({ ok: true }));

/** The same, plus the one Firebase Auth lookup (`getUser`) every salts callable makes for its caller. */
exports.benchLookup = onCall(async (request) => {
  const { getAuth } = require("firebase-admin/auth");
  const user = await getAuth(getApps()[0] ?? initializeApp()).getUser(request.auth.uid);
  return { ok: user.uid === request.auth.uid };
});

/** One transaction over one document: the least a Firestore-backed callable does (`bench -- coldstart`). */
exports.benchTransaction = onCall(async (request) => {
  const ref = db.collection("bench_coldstart").doc(String(request.data?.id ?? "one"));
  const n = await db.runTransaction(async (tx) => {
    const snap = await tx.get(ref);
    const next = (snap.get("n") ?? 0) + 1;
    tx.set(ref, { n: next });
    return next;
  });
  return { n };
});
