// node scripts/call.mjs <function> ['<json data>'] [--as admin|auditor]   calls salts-<function> on the local stack
// node scripts/call.mjs --token [--as admin|auditor]                      prints a fresh ID token
import { callFunction, DEMO_USERS, signIn, stackState } from "./stack-client.mjs";

const args = process.argv.slice(2);
const asIndex = args.indexOf("--as");
const role = asIndex >= 0 ? args.splice(asIndex, 2)[1] : "admin";
const user = DEMO_USERS[role];
if (!user) {
  console.error("--as takes admin or auditor");
  process.exit(2);
}
try {
  const state = stackState();
  const token = await signIn(state, user);
  if (args[0] === "--token") {
    console.log(token);
    process.exit(0);
  }
  const [name, raw = "{}"] = args;
  if (!name) {
    console.error("usage: node scripts/call.mjs <function> ['<json data>'] [--as admin|auditor]");
    process.exit(2);
  }
  const body = await callFunction(state, name, JSON.parse(raw), token);
  console.log(JSON.stringify(body.result ?? body, null, 2));
  process.exit(body.error ? 1 : 0);
} catch (e) {
  console.error(e.message);
  process.exit(1);
}
