import type { SecretManagerServiceClient } from "@google-cloud/secret-manager";
import type { Storage } from "@google-cloud/storage";
import { getApps, initializeApp } from "firebase-admin/app";
import { getFirestore, type Firestore } from "firebase-admin/firestore";
import type { SecretAccessClient } from "../adapters/secretManager/secretVersions";

/** The default app's Firestore (the emulator when FIRESTORE_EMULATOR_HOST is set). */
export function adminFirestore(): Firestore {
  const app = getApps()[0] ?? initializeApp();
  return getFirestore(app);
}

/**
 * A Secret Manager client for reading secret versions: the real service, or a local server speaking its
 * gRPC API (tests, local stack). It loads on the first access, so a function that reads no secret through
 * it (salts-metrics) never loads the library or google-gax; and it loads only what an access needs (see
 * newSecretAccessClient).
 */
export function secretManagerClient(localHost: string | null): SecretAccessClient {
  let client: SecretManagerServiceClient | null = null;
  return {
    accessSecretVersion: (request, options) =>
      (client ??= newSecretAccessClient(localHost)).accessSecretVersion(request, options),
  };
}

/** The v1 client's own module: the package's index also loads its static protobuf module (0.8 MB) and v1beta2. */
export const SECRET_MANAGER_V1_CLIENT =
  "@google-cloud/secret-manager/build/src/v1/secret_manager_service_client";

/**
 * Stands in for the client's Locations mixin (getLocation/listLocations, which this service never calls):
 * calling it throws; closing it has nothing to close.
 */
class NoLocations {
  getLocation(): never {
    throw new Error("Secret Manager locations are not loaded by this client");
  }
  listLocationsAsync(): never {
    return this.getLocation();
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

/**
 * The client as the pepper and the keys read it, on a cold instance's first call: the v1 client module
 * alone, and without the Locations mixin (its own protos, ~40 ms of CPU). The same gRPC API and the same
 * accessSecretVersion; test/unit/secretAccessClient.test.ts checks both against the full client's.
 */
export function newSecretAccessClient(localHost: string | null): SecretManagerServiceClient {
  const SecretManagerServiceClient = v1ClientClass();
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const gax = require("google-gax") as typeof import("google-gax");
  const lean = Object.create(gax, { LocationsClient: { value: NoLocations } }) as typeof gax;
  return new SecretManagerServiceClient(clientOptions(localHost, gax), lean);
}

type ClientClass = typeof import("@google-cloud/secret-manager").SecretManagerServiceClient;

/**
 * The v1 client's class from its own module; should an upgrade move that file (or close the package's
 * paths with an `exports` map), from the package's index, as before: slower to load, never broken.
 */
function v1ClientClass(): ClientClass {
  /* eslint-disable @typescript-eslint/no-require-imports */
  try {
    return (require(SECRET_MANAGER_V1_CLIENT) as { SecretManagerServiceClient: ClientClass })
      .SecretManagerServiceClient;
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code !== "MODULE_NOT_FOUND" && code !== "ERR_PACKAGE_PATH_NOT_EXPORTED") throw e;
    return (require("@google-cloud/secret-manager") as typeof import("@google-cloud/secret-manager"))
      .SecretManagerServiceClient;
  }
  /* eslint-enable @typescript-eslint/no-require-imports */
}

/** The full client (loads the whole library now): for what administers secrets (tests, the local stack). */
export function newSecretManagerClient(localHost: string | null): SecretManagerServiceClient {
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { SecretManagerServiceClient } =
    require("@google-cloud/secret-manager") as typeof import("@google-cloud/secret-manager");
  const gax = require("google-gax") as typeof import("google-gax");
  /* eslint-enable @typescript-eslint/no-require-imports */
  return new SecretManagerServiceClient(clientOptions(localHost, gax));
}

/** The real service (no options), or a local server over plain gRPC. */
function clientOptions(localHost: string | null, gax: typeof import("google-gax")) {
  if (!localHost) return {};
  const [host, port] = localHost.split(":");
  // A local server has no cloud metadata service: do not let the auth library probe for one.
  process.env.METADATA_SERVER_DETECTION ??= "none";
  return { apiEndpoint: host, port: Number(port), sslCreds: gax.grpc.credentials.createInsecure() };
}

/**
 * A Cloud Storage client (a local server speaking its JSON API when STORAGE_EMULATOR_HOST is set, which the
 * client reads itself); retried calls stay within the anchor's own deadline.
 */
export function cloudStorage(): Storage {
  // Loaded only where a bucket is configured: functions that never anchor do not pay for the module at start.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { Storage: Client } = require("@google-cloud/storage") as typeof import("@google-cloud/storage");
  return new Client({ retryOptions: { maxRetries: 2, totalTimeout: 30 } });
}
