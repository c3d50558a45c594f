// A local server speaking the part of Cloud Storage's JSON API the service uses (the anchor of audit
// checkpoints), for the local stack and the tests: buckets with a retention policy that can be locked,
// multipart and media uploads with `ifGenerationMatch`, listing by prefix, download, metadata and delete,
// with the status codes and error bodies Cloud Storage gives. An object under retention is write-once:
// overwriting or deleting it is refused with 403 `retentionPolicyNotMet`, as a retention-locked bucket does.
// `@google-cloud/storage` reaches it through STORAGE_EMULATOR_HOST (`http://host:port`).
import { createHash } from "node:crypto";
import http from "node:http";
import { CRC32C } from "@google-cloud/storage";

const json = (res, status, body) => {
  res.writeHead(status, { "content-type": "application/json; charset=UTF-8" });
  res.end(JSON.stringify(body));
};
const fail = (res, status, reason, message) =>
  json(res, status, { error: { code: status, message, errors: [{ domain: "global", reason, message }] } });

/** The parts of a multipart/related upload: metadata JSON, then the media. */
function multipart(body, contentType) {
  const boundary = /boundary="?([^";]+)"?/.exec(contentType ?? "")?.[1];
  if (!boundary) return null;
  const text = body.toString("latin1");
  const parts = text.split(`--${boundary}`).slice(1, -1);
  return parts.map((p) => {
    const split = p.indexOf("\r\n\r\n");
    const headers = p.slice(0, split);
    const content = Buffer.from(p.slice(split + 4, p.length - 2), "latin1");
    return { contentType: /content-type:\s*([^\r\n]+)/i.exec(headers)?.[1], content };
  });
}

export class LocalCloudStorage {
  /** @type {Map<string, {name: string, retentionSeconds: number, locked: boolean, metageneration: number, created: string, objects: Map<string, any>}>} */
  buckets = new Map();
  /** @type {string[]} what was asked, in order */
  calls = [];
  server = null;
  generation = 1_700_000_000_000_000;

  createBucket(name, { retentionSeconds = 0, locked = false } = {}) {
    if (this.buckets.has(name)) return this.buckets.get(name);
    const bucket = {
      name,
      retentionSeconds,
      locked,
      metageneration: 1,
      created: new Date().toISOString(),
      objects: new Map(),
    };
    this.buckets.set(name, bucket);
    return bucket;
  }

  bucketResource(b) {
    return {
      kind: "storage#bucket",
      id: b.name,
      name: b.name,
      metageneration: String(b.metageneration),
      timeCreated: b.created,
      ...(b.retentionSeconds > 0
        ? {
            retentionPolicy: {
              retentionPeriod: String(b.retentionSeconds),
              effectiveTime: b.created,
              isLocked: b.locked,
            },
          }
        : {}),
    };
  }

  objectResource(bucket, o) {
    return {
      kind: "storage#object",
      id: `${bucket.name}/${o.name}/${o.generation}`,
      name: o.name,
      bucket: bucket.name,
      generation: String(o.generation),
      metageneration: "1",
      contentType: o.contentType,
      size: String(o.data.length),
      md5Hash: createHash("md5").update(o.data).digest("base64"),
      crc32c: (() => {
        const c = new CRC32C();
        c.update(o.data);
        return c.toString();
      })(),
      timeCreated: o.created,
      updated: o.created,
      ...(o.retainUntil ? { retentionExpirationTime: new Date(o.retainUntil).toISOString() } : {}),
    };
  }

  /** Whether an object may not be replaced or deleted yet, and the refusal Cloud Storage gives then. */
  retained(bucket, o, res) {
    if (!o.retainUntil || o.retainUntil <= Date.now()) return false;
    const until = new Date(o.retainUntil).toISOString();
    fail(
      res,
      403,
      "retentionPolicyNotMet",
      `Object '${bucket.name}/${o.name}' is subject to bucket's retention policy or object retention and cannot be deleted or overwritten until ${until}`,
    );
    return true;
  }

  handle(req, res, body) {
    const url = new URL(req.url, "http://local");
    const path = decodeURIComponent(url.pathname);
    this.calls.push(`${req.method} ${path}${url.search}`);
    const q = url.searchParams;
    // The client sends `/b/...` (STORAGE_EMULATOR_HOST as its base) or `/storage/v1/b/...`; uploads `/upload/storage/v1/b/...`.
    // Outside the JSON API, like the Firestore emulator's own reset: tests that wipe the database wipe its anchors.
    const reset = /^\/emulator\/v1\/b\/([^/]+)\/o$/.exec(path);
    if (reset && req.method === "DELETE") {
      this.buckets.get(reset[1])?.objects.clear();
      res.writeHead(200);
      return res.end();
    }
    const upload = /^\/upload\/storage\/v1\/b\/([^/]+)\/o$/.exec(path);
    const rest = path.replace(/^\/storage\/v1/, "");
    if (req.method === "POST" && rest === "/b") {
      const meta = JSON.parse(body.toString("utf8") || "{}");
      if (this.buckets.has(meta.name)) return fail(res, 409, "conflict", "Your previous request to create the named bucket succeeded and you already own it.");
      const b = this.createBucket(meta.name, { retentionSeconds: Number(meta.retentionPolicy?.retentionPeriod ?? 0) });
      return json(res, 200, this.bucketResource(b));
    }
    const bucketPath = /^\/b\/([^/]+)(\/.*)?$/.exec(rest);
    const bucketName = upload?.[1] ?? bucketPath?.[1];
    const bucket = bucketName ? this.buckets.get(bucketName) : undefined;
    if (!bucket) return fail(res, 404, "notFound", "The specified bucket does not exist.");
    if (upload && req.method === "POST") return this.upload(bucket, q, req, res, body);
    const sub = bucketPath?.[2] ?? "";
    if (sub === "" && req.method === "GET") return json(res, 200, this.bucketResource(bucket));
    if (sub === "/lockRetentionPolicy" && req.method === "POST") {
      if (Number(q.get("ifMetagenerationMatch")) !== bucket.metageneration)
        return fail(res, 412, "conditionNotMet", "At least one of the pre-conditions you specified did not hold.");
      bucket.locked = true;
      return json(res, 200, this.bucketResource(bucket));
    }
    if (sub === "" && req.method === "PATCH") {
      const meta = JSON.parse(body.toString("utf8") || "{}");
      if ("retentionPolicy" in meta) {
        const period = Number(meta.retentionPolicy?.retentionPeriod ?? 0);
        if (bucket.locked && period < bucket.retentionSeconds)
          return fail(res, 403, "forbidden", "Cannot reduce retention period of a locked retention policy.");
        bucket.retentionSeconds = period;
        bucket.metageneration++;
      }
      return json(res, 200, this.bucketResource(bucket));
    }
    if (sub === "/o" && req.method === "GET") {
      const prefix = q.get("prefix") ?? "";
      const max = Number(q.get("maxResults") ?? 1000);
      const names = [...bucket.objects.keys()].filter((n) => n.startsWith(prefix)).sort();
      const start = q.get("pageToken") ? names.indexOf(q.get("pageToken")) : 0;
      const page = names.slice(Math.max(0, start), Math.max(0, start) + max);
      const next = names[Math.max(0, start) + max];
      return json(res, 200, {
        kind: "storage#objects",
        items: page.map((n) => this.objectResource(bucket, bucket.objects.get(n))),
        ...(next ? { nextPageToken: next } : {}),
      });
    }
    const objectPath = /^\/o\/(.+)$/.exec(sub);
    if (objectPath) {
      const o = bucket.objects.get(objectPath[1]);
      if (!o) return fail(res, 404, "notFound", `No such object: ${bucket.name}/${objectPath[1]}`);
      if (req.method === "GET") {
        if (q.get("alt") === "media") {
          res.writeHead(200, {
            "content-type": o.contentType ?? "application/octet-stream",
            "x-goog-hash": `crc32c=${this.objectResource(bucket, o).crc32c},md5=${this.objectResource(bucket, o).md5Hash}`,
            "x-goog-generation": String(o.generation),
          });
          return res.end(o.data);
        }
        return json(res, 200, this.objectResource(bucket, o));
      }
      if (req.method === "DELETE") {
        if (this.retained(bucket, o, res)) return undefined;
        bucket.objects.delete(o.name);
        res.writeHead(204);
        return res.end();
      }
    }
    return fail(res, 501, "notImplemented", `${req.method} ${path} is not in the local server`);
  }

  upload(bucket, q, req, res, body) {
    const type = q.get("uploadType");
    let name = q.get("name");
    let data;
    let contentType = req.headers["content-type"];
    if (type === "multipart") {
      const parts = multipart(body, req.headers["content-type"]);
      if (!parts || parts.length < 2) return fail(res, 400, "invalid", "Malformed multipart body.");
      const meta = JSON.parse(parts[0].content.toString("utf8") || "{}");
      name = meta.name ?? name;
      contentType = meta.contentType ?? parts[1].contentType;
      data = parts[1].content;
    } else if (type === "media") {
      data = body;
    } else {
      return fail(res, 501, "notImplemented", `uploadType=${type} is not in the local server (use resumable: false)`);
    }
    if (!name) return fail(res, 400, "required", "Required parameter: name");
    const existing = bucket.objects.get(name);
    const match = q.get("ifGenerationMatch");
    if (match !== null && String(existing?.generation ?? 0) !== match)
      return fail(res, 412, "conditionNotMet", "At least one of the pre-conditions you specified did not hold.");
    if (existing && this.retained(bucket, existing, res)) return undefined;
    const created = new Date().toISOString();
    const o = {
      name,
      data,
      contentType,
      created,
      generation: ++this.generation,
      retainUntil: bucket.retentionSeconds > 0 ? Date.now() + bucket.retentionSeconds * 1000 : 0,
    };
    bucket.objects.set(name, o);
    return json(res, 200, this.objectResource(bucket, o));
  }

  /** Listens on a free loopback port; returns `http://127.0.0.1:<port>` (what STORAGE_EMULATOR_HOST takes). */
  async start() {
    this.server = http.createServer((req, res) => {
      const chunks = [];
      req.on("data", (c) => chunks.push(c));
      req.on("end", () => {
        try {
          this.handle(req, res, Buffer.concat(chunks));
        } catch (e) {
          fail(res, 500, "backendError", String(e));
        }
      });
    });
    await new Promise((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    return `http://127.0.0.1:${this.server.address().port}`;
  }

  async stop() {
    const server = this.server;
    this.server = null;
    if (server) await new Promise((resolve) => server.close(() => resolve()));
  }
}

/** The bucket the local stack anchors audit checkpoints in: retention-locked, as production's must be. */
export const LOCAL_ANCHOR_BUCKET = "demo-salts-audit-anchor";

/** A local server holding the anchor bucket under a locked ten-year retention policy. */
export async function startLocalCloudStorage() {
  const storage = new LocalCloudStorage();
  storage.createBucket(LOCAL_ANCHOR_BUCKET, { retentionSeconds: 10 * 365 * 86_400, locked: true });
  return { storage, host: await storage.start(), bucket: LOCAL_ANCHOR_BUCKET };
}
