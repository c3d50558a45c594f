import { createHash } from "node:crypto";
import { isSaltServiceError } from "../domain/errors";
import type { SaltKind } from "../domain/ids";
import { versionAt, type LoadedSalt } from "../domain/salt";
import { REQUEST_TTL_MS } from "../ports/requestStore";
import type { Pepper } from "../ports/secrets";
import type { Services } from "./deps";

/**
 * A query's pin: when its first batch came (`asOf`) and the pepper version then. Every batch of one
 * BigQuery query (one `caller`, one invoker) is answered as of its pin, so the query sees one pseudonym
 * per subject and value even if a salt, a scope or the pepper rotates while it runs, and a retried
 * batch gets the replies it got the first time without its replies being stored: one small record per
 * query instead of one per batch (a billion-row query sends about a million batches).
 */
export interface QueryPin {
  readonly asOf: Date;
  readonly pepperVersion: number;
}

/** What a pin record holds (kept by the request store under the pin's key, like a first answer). */
interface PinRecord {
  as_of: string;
  pepper_version: number;
}

const PIN_FINGERPRINT = "salt-service/bigquery-pin/v1";
/** Pins remembered per instance (a query's later batches on this instance read nothing). */
const PINS_MAX = 10_000;
/** Versions found for salts that rotated while their query ran, remembered per instance. */
const FOUND_MAX = 10_000;

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

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
  deps: Pick<Services, "requests" | "clock">,
  invoker: string,
  caller: string,
  pepper: Pepper,
): Promise<QueryPin> {
  const key = sha256(`${PIN_FINGERPRINT}\0${invoker}\0${caller}`);
  const pins = bounded(pinsBy, deps.requests, PINS_MAX);
  const now = deps.clock().getTime();
  const known = pins.get(key);
  if (known && now - known.madeAt < REQUEST_TTL_MS) return known.pending;
  const record: PinRecord = { as_of: new Date(now).toISOString(), pepper_version: pepper.version };
  const pending = deps.requests
    .keep(key, PIN_FINGERPRINT, record)
    .then((kept) => boundedPin(kept.answer as PinRecord, now, pepper));
  pins.set(key, { pending, madeAt: now });
  // A failed read or create is tried again by the next batch.
  pending.catch(() => pins.delete(key));
  return pending;
}

/** Clocks of instances may differ by this much: a pin this far ahead of this instance's clock is kept. */
const CLOCK_SKEW_MS = 5 * 60_000;

/**
 * The stored pin, held to what the service could have written: a time within the pin's lifetime (not
 * later than now, give or take clock skew) and a pepper version not newer than the current one. A
 * database writer who edits a pin can so move a query back by at most a day, never to salt versions
 * retired before that; anything unreadable counts as a pin made now.
 */
function boundedPin(stored: PinRecord, now: number, pepper: Pepper): QueryPin {
  const at = Date.parse(String(stored?.as_of));
  const asOf = Number.isFinite(at) ? Math.min(Math.max(at, now - REQUEST_TTL_MS), now + CLOCK_SKEW_MS) : now;
  const v = stored?.pepper_version;
  const pepperVersion = Number.isSafeInteger(v) && v >= 1 && v <= pepper.version ? v : pepper.version;
  return { asOf: new Date(asOf), pepperVersion };
}

/**
 * The pepper as of the pin: its version then, while it can still be read; the current one otherwise
 * (a disabled or destroyed version: nothing made under it can be made again anyway).
 */
export async function pepperAsOf(
  deps: Pick<Services, "pepper">,
  pin: QueryPin,
  current: Pepper,
): Promise<Pepper> {
  if (pin.pepperVersion === current.version) return current;
  try {
    return await deps.pepper.version(pin.pepperVersion);
  } catch (e) {
    if (isSaltServiceError(e) && e.code === "failed-precondition") return current;
    throw e;
  }
}

/**
 * Each salt as of the pin: unchanged unless it rotated after the pin (or after its own creation,
 * when the query created it), then its version current at that time, read from the retained versions.
 * A version no longer retained (SALT_HISTORY_RETENTION_DAYS after it retired) leaves the current one;
 * an erased subject's salts are gone, so a salt made after an erase is always taken as it is now.
 */
export async function saltsAsOf(
  deps: Pick<Services, "salts" | "cache">,
  pin: QueryPin,
  kind: SaltKind,
  salts: Map<string, LoadedSalt>,
): Promise<Map<string, LoadedSalt>> {
  const found = bounded(foundBy, deps.cache, FOUND_MAX);
  const changes: Promise<void>[] = [];
  for (const [id, loaded] of salts) {
    const r = loaded.record;
    if (r.last_rotated.getTime() <= Math.max(pin.asOf.getTime(), r.created_at.getTime())) continue;
    changes.push(
      (async () => {
        // Keyed by the salt's incarnation (its creation) and current version: a later rotation or an
        // erase and re-creation asks storage again.
        const memo = `${kind}\0${id}\0${r.created_at.getTime()}\0${r.version}\0${pin.asOf.getTime()}`;
        let version = found.get(memo);
        if (version === undefined) {
          const then = await versionAt(pin.asOf, r.created_at, r.last_rotated, () =>
            deps.salts.history(kind, id),
          );
          version = then ?? null;
          found.set(memo, version);
        }
        if (version === null) return;
        const salt = await deps.cache.version(kind, id, version);
        if (salt) salts.set(id, { ...loaded, record: { ...r, version }, salt });
      })(),
    );
  }
  await Promise.all(changes);
  return salts;
}
