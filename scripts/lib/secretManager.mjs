// A local server speaking Secret Manager's v1 gRPC API (from the protos the client package ships), for the
// local stack and the tests: secrets with versions, `latest` (the newest version, whatever its state),
// ENABLED/DISABLED/DESTROYED states and the
// real status codes, so the service's real client talks to it exactly as it talks to Google's.
import { createRequire } from "node:module";
import path from "node:path";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";

const require = createRequire(import.meta.url);
const PROTO_ROOT = path.join(path.dirname(require.resolve("@google-cloud/secret-manager/package.json")), "build/protos");
const GAX_PROTOS = path.join(path.dirname(require.resolve("google-gax")), "../../build/protos");

export class LocalSecretManager {
  /** @type {Map<string, {data: Buffer, state: string, created: number}[]>} */
  secrets = new Map();
  /** @type {string[]} what was asked, in order (tests count calls) */
  calls = [];
  server = null;
  port = 0;

  addVersion(project, secret, data) {
    const key = `projects/${project}/secrets/${secret}`;
    const versions = this.secrets.get(key) ?? [];
    versions.push({ data: Buffer.from(data), state: "ENABLED", created: Date.now() });
    this.secrets.set(key, versions);
    return versions.length;
  }

  setState(project, secret, version, state) {
    const v = this.secrets.get(`projects/${project}/secrets/${secret}`)?.[version - 1];
    if (!v) throw new Error("no such version");
    v.state = state;
    if (state === "DESTROYED") v.data = Buffer.alloc(0);
  }

  resolve(name) {
    const m = /^(projects\/[^/]+\/secrets\/[^/]+)\/versions\/(latest|\d+)$/.exec(name);
    if (!m) return { status: grpc.status.INVALID_ARGUMENT, message: `invalid resource name ${name}` };
    const versions = this.secrets.get(m[1]);
    if (!versions) return { status: grpc.status.NOT_FOUND, message: `Secret [${m[1]}] not found or has no versions.` };
    // As Secret Manager does: `latest` is the most recently created version, whatever its state (a disabled or
    // destroyed latest version is refused on access, naming it; older enabled versions are not used instead).
    const index = m[2] === "latest" ? versions.length - 1 : Number(m[2]) - 1;
    const v = versions[index];
    if (!v) return { status: grpc.status.NOT_FOUND, message: `Secret Version [${name}] not found.` };
    return { name: `${m[1]}/versions/${index + 1}`, v };
  }

  versionMessage(name, v) {
    return { name, state: v.state, createTime: { seconds: Math.floor(v.created / 1000), nanos: 0 } };
  }

  handlers() {
    const unary = (fn) => (call, cb) => {
      try {
        const out = fn(call.request);
        if (out && "status" in out) cb({ code: out.status, message: out.message });
        else cb(null, out);
      } catch (e) {
        cb({ code: grpc.status.INTERNAL, message: String(e) });
      }
    };
    const stateChange = (state) =>
      unary((req) => {
        this.calls.push(`${state.toLowerCase()} ${req.name}`);
        const r = this.resolve(req.name);
        if ("status" in r) return r;
        r.v.state = state;
        if (state === "DESTROYED") r.v.data = Buffer.alloc(0);
        return this.versionMessage(r.name, r.v);
      });
    return {
      AccessSecretVersion: unary((req) => {
        this.calls.push(`access ${req.name}`);
        const r = this.resolve(req.name);
        if ("status" in r) return r;
        if (r.v.state !== "ENABLED") {
          return { status: grpc.status.FAILED_PRECONDITION, message: `Secret Version [${r.name}] is in ${r.v.state} state.` };
        }
        return { name: r.name, payload: { data: r.v.data } };
      }),
      GetSecretVersion: unary((req) => {
        this.calls.push(`get ${req.name}`);
        const r = this.resolve(req.name);
        return "status" in r ? r : this.versionMessage(r.name, r.v);
      }),
      CreateSecret: unary((req) => {
        const key = `${req.parent}/secrets/${req.secretId}`;
        if (this.secrets.has(key)) return { status: grpc.status.ALREADY_EXISTS, message: `Secret [${key}] already exists.` };
        this.secrets.set(key, []);
        return { name: key };
      }),
      DeleteSecret: unary((req) => {
        if (!this.secrets.delete(req.name)) return { status: grpc.status.NOT_FOUND, message: `Secret [${req.name}] not found.` };
        return {};
      }),
      AddSecretVersion: unary((req) => {
        const versions = this.secrets.get(req.parent);
        if (!versions) return { status: grpc.status.NOT_FOUND, message: `Secret [${req.parent}] not found.` };
        const [project, secret] = [req.parent.split("/")[1], req.parent.split("/")[3]];
        const n = this.addVersion(project, secret, Buffer.from(req.payload?.data ?? []));
        return this.versionMessage(`${req.parent}/versions/${n}`, versions[n - 1]);
      }),
      ListSecretVersions: unary((req) => {
        const versions = this.secrets.get(req.parent);
        if (!versions) return { status: grpc.status.NOT_FOUND, message: `Secret [${req.parent}] not found.` };
        const list = versions.map((v, i) => this.versionMessage(`${req.parent}/versions/${i + 1}`, v)).reverse();
        return { versions: list, nextPageToken: "", totalSize: list.length };
      }),
      DisableSecretVersion: stateChange("DISABLED"),
      EnableSecretVersion: stateChange("ENABLED"),
      DestroySecretVersion: stateChange("DESTROYED"),
    };
  }

  /** Listens on a free loopback port; returns host:port. */
  async start() {
    const def = protoLoader.loadSync("google/cloud/secretmanager/v1/service.proto", {
      includeDirs: [PROTO_ROOT, GAX_PROTOS],
      keepCase: false,
      longs: String,
      enums: String,
      defaults: true,
      oneofs: true,
    });
    const service = grpc.loadPackageDefinition(def).google.cloud.secretmanager.v1.SecretManagerService.service;
    const server = new grpc.Server();
    const implemented = this.handlers();
    const handlers = {};
    for (const method of Object.keys(service)) {
      handlers[method] =
        implemented[method] ?? ((_call, cb) => cb({ code: grpc.status.UNIMPLEMENTED, message: "not in the local server" }));
    }
    server.addService(service, handlers);
    this.port = await new Promise((resolve, reject) =>
      server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, port) =>
        err ? reject(err) : resolve(port),
      ),
    );
    this.server = server;
    return `127.0.0.1:${this.port}`;
  }

  async stop() {
    const server = this.server;
    this.server = null;
    if (server) await new Promise((resolve) => server.tryShutdown(() => resolve()));
  }
}

/** A local server holding `secrets` (name -> value) as version 1 each, for `project`. */
export async function startLocalSecretManager(project, secrets) {
  const sm = new LocalSecretManager();
  for (const [name, value] of Object.entries(secrets)) sm.addVersion(project, name, Buffer.from(value, "utf8"));
  return { sm, host: await sm.start() };
}
