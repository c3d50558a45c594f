import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import { isSaltServiceError, unavailable } from "../domain/errors";
import type { SaltKind } from "../domain/ids";
import { versionAt, type LoadedSalt, type RetiredVersion } from "../domain/salt";
import type { ScopeRecord } from "../domain/scope";
import type { ScopeKey } from "../engine/scopedKeys";
import { REQUEST_TTL_MS } from "../ports/requestStore";
import type { Pepper } from "../ports/secrets";
import type { Services } from "./deps";

/**
 * A query's pin: a time just before its first batch came (`asOf`, PIN_SETTLE_MS before) and the pepper
 * version then. Every batch of one BigQuery query (one `caller`, one invoker) is answered as of its pin, so the query sees one pseudonym
 * per subject and value even if a salt, a scope or the pepper rotates while it runs, and a retried
 * batch gets the replies it got the first time without its replies being stored: one small record per
 * query instead of one per batch (a billion-row query sends about a million batches).
 */
export interface QueryPin {
  readonly asOf: Date;
  readonly pepperVersion: number;
  /**
   * When the pin was made (ms; `asOf` + PIN_SETTLE_MS): records read before it may not show every
   * change stamped at or before `asOf`, so a batch reads them again; records read after it show them
   * all (a rotation is stamped before its commit, which lands within Firestore's deadline or never). So
   * every instance, every batch and every retry decides on the same versions.
   */
  readonly settledAt: number;
}

/**
 * How far before its first batch a query's pin lies: Firestore's commit deadline (60 s: a rotation
 * stamped before the pin commits by then or never) with room for clock skew between instances. A
 * rotation in the last PIN_SETTLE_MS before a query starts takes effect from the next query.
 */
export const PIN_SETTLE_MS = 75_000;

/** What a pin record holds (kept by the request store under the pin's key, like a first answer). */
interface PinRecord {
  as_of: string;
  pepper_version: number;
  /** HMAC under AUDIT_KEY of the key and the two fields above: a pin is the service's own or ignored. */
  mac: string;
  audit_key_version: number;
}

const PIN_FINGERPRINT = "salt-service/bigquery-pin/v1";
/** Pins remembered per instance (a query's later batches on this instance read nothing). */
const PINS_MAX = 10_000;
/** Versions found for salts and scopes that rotated while their query ran, remembered per instance. */
const FOUND_MAX = 10_000;

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

const pinMac = (key: Buffer, pinKey: string, asOf: string, pepperVersion: number) =>
  createHmac("sha256", key).update(`${PIN_FINGERPRINT}\0${pinKey}\0${asOf}\0${pepperVersion}`).digest();

interface PinEntry {
  pending: Promise<QueryPin>;
  madeAt: number;
}
// Per request store (one per instance): pins of the queries seen, and versions found as of a pin.
const pinsBy = new WeakMap<object, Map<string, PinEntry>>();
const foundBy = new WeakMap<object, Map<string, number | null>>();

function bounded<V>(by: WeakMap<object, Map<string, V>>, owner: object, max: number): Map<string, V> {
  let map = by.get(owner);
  if (!map) by.set(owner, (map = new Map()));
  if (map.size >= max) map.clear();
  return map;
}

/**
 * The pin of the query `caller` run through `invoker`: created by the query's first batch (whichever
 * instance serves it; a race creates one, the other reads it), read once per instance after that. A
 * pin lives as long as a kept answer (REQUEST_TTL_MS, a day: BigQuery stops a query after 6 hours).
 */
export function queryPin(
  deps: Pick<Services, "requests" | "clock" | "auditKey">,
  invoker: string,
  caller: string,
  pepper: Pepper,
): Promise<QueryPin> {
  const key = sha256(`${PIN_FINGERPRINT}\0${invoker}\0${caller}`);
  const pins = bounded(pinsBy, deps.requests, PINS_MAX);
  const now = deps.clock().getTime();
  const known = pins.get(key);
  if (known && now - known.madeAt < REQUEST_TTL_MS) return known.pending;
  const pending = (async () => {
    const auditKey = await deps.auditKey.current();
    const asOf = new Date(now - PIN_SETTLE_MS).toISOString();
    const record: PinRecord = {
      as_of: asOf,
      pepper_version: pepper.version,
      mac: pinMac(auditKey.bytes, key, asOf, pepper.version).toString("hex"),
      audit_key_version: auditKey.version,
    };
    const kept = await deps.requests.keep(key, PIN_FINGERPRINT, record);
    return trustedPin(deps, key, kept.answer as PinRecord, now, pepper);
  })();
  pins.set(key, { pending, madeAt: now });
  // A failed read or create is tried again by the next batch.
  pending.catch(() => pins.delete(key));
  return pending;
}

/**
 * The stored pin if the service wrote it: its MAC under AUDIT_KEY checks, its time lies within the pin's
 * lifetime. Anything else (a pin a database writer made, edited or copied, an unreadable one) counts as
 * a pin made now, as a new query's would be: never older versions than a query starting now gets.
 */
async function trustedPin(
  deps: Pick<Services, "auditKey">,
  key: string,
  stored: PinRecord,
  now: number,
  pepper: Pepper,
): Promise<QueryPin> {
  const made = { asOf: new Date(now - PIN_SETTLE_MS), pepperVersion: pepper.version, settledAt: now };
  const at = Date.parse(String(stored?.as_of));
  const v = stored?.pepper_version;
  if (!Number.isFinite(at) || !Number.isSafeInteger(v) || v < 1 || typeof stored.mac !== "string")
    return made;
  const keyVersion = stored.audit_key_version;
  if (!Number.isSafeInteger(keyVersion) || keyVersion < 1) return made;
  if (at < now - REQUEST_TTL_MS || at > now + PIN_SETTLE_MS) return made;
  let auditKey;
  try {
    auditKey = await deps.auditKey.version(keyVersion);
  } catch (e) {
    if (isSaltServiceError(e) && e.code === "failed-precondition") return made;
    throw e;
  }
  const want = pinMac(auditKey.bytes, key, stored.as_of, v);
  const got = Buffer.from(stored.mac, "hex");
  if (got.length !== want.length || !timingSafeEqual(got, want)) return made;
  return { asOf: new Date(at), pepperVersion: v, settledAt: at + PIN_SETTLE_MS };
}

/**
 * The pepper as of the pin: its version then. One this instance does not know yet (the pepper rotated
 * and another instance pinned the query under the new version: "does not exist" here until it looks for
 * newer versions again) is unavailable, for a retry; one disabled or destroyed since, or below
 * PEPPER_MIN_VERSION, gives the current one (nothing may be made under it).
 */
export async function pepperAsOf(
  deps: Pick<Services, "pepper" | "config">,
  pin: QueryPin,
  current: Pepper,
): Promise<Pepper> {
  if (pin.pepperVersion === current.version) return current;
  if (pin.pepperVersion < (deps.config.pepperMinVersion ?? 1)) return current;
  try {
    return await deps.pepper.version(pin.pepperVersion);
  } catch (e) {
    if (!isSaltServiceError(e) || e.code !== "failed-precondition") throw e;
    if (pin.pepperVersion > current.version && /does not exist/.test(e.message))
      throw unavailable(
        "The query was pinned under a pepper version this instance does not have yet; retry",
        e,
      );
    return current;
  }
}

/**
 * Each salt as of the pin, from records read after the pin was made: unchanged unless it rotated after
 * the pin (or after its own creation, when the query created it), then its version current at that
 * time, read from the retained versions of the same incarnation. A version no longer retained
 * (SALT_HISTORY_RETENTION_DAYS after it retired) leaves the current one; an erased subject's salts are
 * gone, so a salt made after an erase is always taken as it is now.
 */
export async function saltsAsOf(
  deps: Pick<Services, "salts" | "cache">,
  pin: QueryPin,
  kind: SaltKind,
  salts: Map<string, LoadedSalt>,
): Promise<Map<string, LoadedSalt>> {
  const changes: Promise<void>[] = [];
  for (const [id, loaded] of salts) {
    const r = loaded.record;
    if (r.last_rotated.getTime() <= Math.max(pin.asOf.getTime(), r.created_at.getTime())) continue;
    changes.push(
      (async () => {
        const version = await rememberedVersionAt(deps.cache, `salt\0${kind}\0${id}`, pin, r, () =>
          deps.salts.history(kind, id),
        );
        if (version === null) return;
        const salt = await deps.cache.version(kind, id, version, r.created_at.getTime());
        if (salt) salts.set(id, { ...loaded, record: { ...r, version }, salt });
      })(),
    );
  }
  await Promise.all(changes);
  return salts;
}

/** The scope's key as of the pin (ScopedPseudonymizer.scopeAsOf), the version found remembered per instance. */
export function scopeAsOf(
  deps: Pick<Services, "scoped" | "scopes" | "cache">,
  pin: QueryPin,
  scopeId: string,
  pepper: Pepper,
): Promise<ScopeKey> {
  return deps.scoped.scopeAsOf(scopeId, pin.asOf, pin.settledAt, pepper, (r: ScopeRecord) =>
    rememberedVersionAt(deps.cache, `scope\0${r.scope_id}`, pin, r, () =>
      deps.scopes.scopeHistory(r.scope_id),
    ),
  );
}

/**
 * versionAt for a salt or scope as the pin's batches see it (null: its current version, or the version
 * then is no longer retained), remembered per instance. Keyed by its incarnation (its creation) and
 * current version: a later rotation, or an erase and re-creation, asks storage again.
 */
async function rememberedVersionAt(
  owner: object,
  what: string,
  pin: QueryPin,
  record: { created_at: Date; last_rotated: Date; version: number },
  history: () => Promise<readonly RetiredVersion[]>,
): Promise<number | null> {
  const found = bounded(foundBy, owner, FOUND_MAX);
  const memo = `${what}\0${record.created_at.getTime()}\0${record.version}\0${pin.asOf.getTime()}`;
  const known = found.get(memo);
  if (known !== undefined) return known;
  const then = (await versionAt(pin.asOf, record.created_at, record.last_rotated, history)) ?? null;
  found.set(memo, then);
  return then;
}
