import { PROJECT_ID } from "../test/support/firestore";
import { adminAuth, call, createUser, functionsHost } from "../test/support/stack";
import { header, latencyLine, stats, timeEach } from "./util";

const N = 300;

/**
 * What the caller lookup in Firebase Auth (`getUser`, for revocation and current roles) adds to a
 * call, over HTTP through the functions emulator: a no-op callable, the same with the lookup, and
 * salts-rotateUser, interleaved in rounds; and the lookup alone from this process.
 */
export async function benchAuth(): Promise<Record<string, number>> {
  header("auth: the caller lookup in Firebase Auth, over HTTP (functions and Auth emulators)");
  const admins = await Promise.all(Array.from({ length: 20 }, () => createUser({ admin: true }, "bench")));
  const run = Date.now().toString(36);
  const token = (i: number) => admins[i % admins.length]!.token;
  const baseline = (name: string) => async (i: number) => {
    const res = await fetch(`http://${functionsHost()}/${PROJECT_ID}/us-central1/${name}`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token(i)}` },
      body: JSON.stringify({ data: {} }),
    });
    if (!res.ok) throw new Error(`${name} failed: HTTP ${res.status}`);
  };
  const users = Array.from({ length: 20 }, (_, i) => `auth-${run}-${i}`);
  for (const [i, u] of users.entries())
    await call("rotateUser", { user_id: u, force: true }, { token: token(i) });
  const rotate = async (i: number) => {
    const r = await call("rotateUser", { user_id: users[i % users.length] }, { token: token(i) });
    if (!r.result) throw new Error(`rotateUser failed: ${r.error?.status}`);
  };
  const lookup = (i: number) => adminAuth().getUser(admins[i % admins.length]!.uid);
  const variants: [string, (i: number) => Promise<unknown>][] = [
    ["no-op callable", baseline("benchNoop")],
    ["no-op callable + getUser", baseline("benchLookup")],
    ["salts-rotateUser (lookup beside the rate limit)", rotate],
    ["getUser alone (Admin SDK, this process)", lookup],
  ];
  for (const [, f] of variants) await timeEach(10, f);
  const samples = new Map<string, number[]>(variants.map(([n]) => [n, []]));
  // Five rounds of 60 calls each; 20 callers keep every caller under the per-minute rate limit.
  for (let round = 0; round < 5; round++) {
    for (const [name, f] of variants) samples.get(name)!.push(...(await timeEach(N / 5, f)));
  }
  const out: Record<string, number> = {};
  for (const [name, s] of samples) {
    const st = stats(s);
    console.log(latencyLine(name, st));
    const key =
      name
        .split(" ")[0]!
        .replace(/[^a-z]/gi, "_")
        .toLowerCase() + (name.includes("+") ? "_lookup" : "");
    out[`${key}_p50`] = st.p50;
    out[`${key}_p95`] = st.p95;
  }
  return out;
}
