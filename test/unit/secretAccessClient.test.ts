import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  newSecretAccessClient,
  newSecretManagerClient,
  SECRET_MANAGER_V1_CLIENT,
} from "../../functions/app/firebase";
import { LocalSecretManager } from "../../scripts/lib/secretManager.mjs";

const PROJECT = "demo-salts";

// The access path builds Secret Manager's client from the v1 module alone and without the Locations
// mixin (app/firebase.ts): it must read exactly what the full client reads, and fail the same way.
describe("the lean Secret Manager access client (local gRPC server)", () => {
  const server = new LocalSecretManager();
  let host: string;
  const value = randomBytes(32);

  beforeAll(async () => {
    host = await server.start();
    server.addVersion(PROJECT, "LEAN", value);
    server.addVersion(PROJECT, "LEAN", randomBytes(32));
  });
  afterAll(() => server.stop());

  it("when the package is upgraded, then the v1 client module is still where the access path requires it", async () => {
    const v1 = (await import(SECRET_MANAGER_V1_CLIENT)) as Record<string, unknown>;
    const full = (await import("@google-cloud/secret-manager")) as Record<string, unknown>;
    expect(typeof v1.SecretManagerServiceClient).toBe("function");
    expect(v1.SecretManagerServiceClient).toBe(
      (full.v1 as Record<string, unknown>).SecretManagerServiceClient,
    );
  });

  it("when a version is read, then the lean and the full client answer the same name and bytes", async () => {
    const lean = newSecretAccessClient(host);
    const full = newSecretManagerClient(host);
    try {
      for (const version of ["1", "latest"]) {
        const name = `projects/${PROJECT}/secrets/LEAN/versions/${version}`;
        const [a] = await lean.accessSecretVersion({ name }, { timeout: 3000, retry: null });
        const [b] = await full.accessSecretVersion({ name }, { timeout: 3000, retry: null });
        expect(a.name).toBe(b.name);
        expect(Buffer.from(a.payload!.data as Uint8Array)).toEqual(
          Buffer.from(b.payload!.data as Uint8Array),
        );
      }
      const [first] = await lean.accessSecretVersion(
        { name: `projects/${PROJECT}/secrets/LEAN/versions/1` },
        { timeout: 3000, retry: null },
      );
      expect(Buffer.from(first.payload!.data as Uint8Array)).toEqual(value);
    } finally {
      await Promise.all([lean.close(), full.close()]);
    }
  });

  it("when a secret is absent, then the lean client fails with the same gRPC code as the full one", async () => {
    const lean = newSecretAccessClient(host);
    const full = newSecretManagerClient(host);
    const name = `projects/${PROJECT}/secrets/ABSENT/versions/latest`;
    try {
      const code = (c: typeof lean) =>
        c.accessSecretVersion({ name }, { timeout: 3000, retry: null }).then(
          () => "answered",
          (e: { code?: number }) => e.code,
        );
      const [a, b] = await Promise.all([code(lean), code(full)]);
      expect(a).toBe(5);
      expect(a).toBe(b);
    } finally {
      await Promise.all([lean.close(), full.close()]);
    }
  });

  it("when a fresh process builds the access client, then it loads the v1 client module alone and no Locations mixin", () => {
    // A process of its own: this one has loaded the whole package already (the full client above).
    const script = `
      import { createRequire } from "node:module";
      const mod = await import(${JSON.stringify(path.resolve(__dirname, "../../functions/app/firebase.ts"))});
      const { newSecretAccessClient } = mod.newSecretAccessClient ? mod : mod.default;
      const client = newSecretAccessClient("127.0.0.1:1");
      const loaded = Object.keys(createRequire(import.meta.url).cache)
        .filter((f) => f.includes("@google-cloud/secret-manager/build/"))
        .map((f) => f.slice(f.indexOf("/build/") + 1));
      console.log(JSON.stringify({ loaded, locations: client.locationsClient.constructor.name }));
      await client.close();`;
    const out = execFileSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
      encoding: "utf8",
    });
    const { loaded, locations } = JSON.parse(out.trim().split("\n").at(-1)!) as {
      loaded: string[];
      locations: string;
    };
    expect(loaded).toContain("build/src/v1/secret_manager_service_client.js");
    // Not the package's index, its 0.8 MB static protobuf module, nor the v1beta* clients.
    expect(loaded.filter((f) => /build\/src\/index\.js|protos\.js$|v1beta/.test(f))).toEqual([]);
    expect(locations).toBe("NoLocations");
  });

  it("when the locations API is asked for, then the lean client refuses rather than calling anything", () => {
    const lean = newSecretAccessClient(host);
    expect(() => lean.getLocation({ name: `projects/${PROJECT}/locations/x` })).toThrow(/not loaded/);
    void lean.close();
  });
});
