// The benchmark's baselines, measured beside the service's callables in the same run. Loaded only by
// `npm run bench` (scripts/with-emulators.mjs --bench); never deployed.
const { onCall } = require("firebase-functions/https");
const { getApps, initializeApp } = require("firebase-admin/app");
const { getAuth } = require("firebase-admin/auth");

/** A callable that does nothing: what the functions emulator and the callable protocol cost. */
exports.benchNoop = onCall(() => ({ ok: true }));

/** The same, plus the one Firebase Auth lookup (`getUser`) every salts callable makes for its caller. */
exports.benchLookup = onCall(async (request) => {
  const auth = getAuth(getApps()[0] ?? initializeApp());
  const user = await auth.getUser(request.auth.uid);
  return { ok: user.uid === request.auth.uid };
});
