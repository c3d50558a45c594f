import path from "node:path";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";

/**
 * A local gRPC server speaking Secret Manager's v1 API (from the protos the
 * client package ships), enough for the pepper: AccessSecretVersion and
 * GetSecretVersion with real version states, `latest`, and real status codes.
 */
export type VersionState = "ENABLED" | "DISABLED" | "DESTROYED";

interface StoredVersion {
  data: Buffer;
  state: VersionState;
}

const PROTO_ROOT = path.join(
  path.dirname(require.resolve("@google-cloud/secret-manager/package.json")),
  "build/protos",
);
const GAX_PROTOS = path.join(path.dirname(require.resolve("google-gax")), "../../build/protos");

export class FakeSecretManager {
  private readonly secrets = new Map<string, StoredVersion[]>();
  private server: grpc.Server | null = null;
  port = 0;
  readonly calls: string[] = [];

  addVersion(project: string, secret: string, data: Buffer | string): number {
    const key = `projects/${project}/secrets/${secret}`;
    const versions = this.secrets.get(key) ?? [];
    versions.push({ data: Buffer.from(data), state: "ENABLED" });
    this.secrets.set(key, versions);
    return versions.length;
  }

  setState(project: string, secret: string, version: number, state: VersionState): void {
    const v = this.secrets.get(`projects/${project}/secrets/${secret}`)?.[version - 1];
    if (!v) throw new Error("no such version");
    v.state = state;
  }

  private resolve(
    name: string,
  ): { status: grpc.status; message: string } | { name: string; v: StoredVersion } {
    const m = /^(projects\/[^/]+\/secrets\/[^/]+)\/versions\/(latest|\d+)$/.exec(name);
    if (!m) return { status: grpc.status.INVALID_ARGUMENT, message: `invalid resource name ${name}` };
    const versions = this.secrets.get(m[1]!);
    if (!versions)
      return { status: grpc.status.NOT_FOUND, message: `Secret [${m[1]}] not found or has no versions.` };
    let index: number;
    if (m[2] === "latest") {
      index = versions.map((v) => v.state).lastIndexOf("ENABLED");
      if (index < 0) return { status: grpc.status.FAILED_PRECONDITION, message: "no enabled versions" };
    } else {
      index = Number(m[2]) - 1;
    }
    const v = versions[index];
    if (!v) return { status: grpc.status.NOT_FOUND, message: `Secret Version [${name}] not found.` };
    return { name: `${m[1]}/versions/${index + 1}`, v };
  }

  async start(): Promise<string> {
    const def = protoLoader.loadSync("google/cloud/secretmanager/v1/service.proto", {
      includeDirs: [PROTO_ROOT, GAX_PROTOS],
      keepCase: false,
      longs: String,
      enums: String,
      defaults: true,
      oneofs: true,
    });
    const pkg = grpc.loadPackageDefinition(def) as unknown as {
      google: {
        cloud: { secretmanager: { v1: { SecretManagerService: { service: grpc.ServiceDefinition } } } };
      };
    };
    const server = new grpc.Server();
    const unimplemented = (call: grpc.ServerUnaryCall<unknown, unknown>, cb: grpc.sendUnaryData<unknown>) =>
      cb({ code: grpc.status.UNIMPLEMENTED, message: "not in the fake" });
    const service = pkg.google.cloud.secretmanager.v1.SecretManagerService.service;
    const handlers: grpc.UntypedServiceImplementation = {};
    for (const method of Object.keys(service)) handlers[method] = unimplemented;
    handlers.AccessSecretVersion = (
      call: grpc.ServerUnaryCall<{ name: string }, unknown>,
      cb: grpc.sendUnaryData<unknown>,
    ) => {
      this.calls.push(`access ${call.request.name}`);
      const r = this.resolve(call.request.name);
      if ("status" in r) return cb({ code: r.status, message: r.message });
      if (r.v.state !== "ENABLED") {
        return cb({ code: grpc.status.FAILED_PRECONDITION, message: `${r.name} is in ${r.v.state} state.` });
      }
      cb(null, { name: r.name, payload: { data: r.v.data } });
    };
    handlers.GetSecretVersion = (
      call: grpc.ServerUnaryCall<{ name: string }, unknown>,
      cb: grpc.sendUnaryData<unknown>,
    ) => {
      this.calls.push(`get ${call.request.name}`);
      const r = this.resolve(call.request.name);
      if ("status" in r) return cb({ code: r.status, message: r.message });
      cb(null, { name: r.name, state: r.v.state });
    };
    server.addService(service, handlers);
    this.port = await new Promise<number>((resolve, reject) =>
      server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, port) =>
        err ? reject(err) : resolve(port),
      ),
    );
    this.server = server;
    return `127.0.0.1:${this.port}`;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
  }
}
