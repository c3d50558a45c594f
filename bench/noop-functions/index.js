// The benchmark's baseline: a callable that does nothing, measured beside salts-rotateUser in the
// same run. Loaded only by `npm run bench` (scripts/with-emulators.mjs --bench); never deployed.
const { onCall } = require("firebase-functions/https");

exports.benchNoop = onCall(() => ({ ok: true }));
