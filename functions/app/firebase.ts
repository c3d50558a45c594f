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
 * A Secret Manager client: the real service, or a local server speaking its gRPC API (tests, local
 * stack). The client library and google-gax (~0.3 s to load) load on the first access, so a
 * function that reads no secret through it (salts-metrics) never loads them.
 */
export function secretManagerClient(localHost: string | null): SecretAccessClient {
  let client: SecretManagerServiceClient | null = null;
  return {
    accessSecretVersion: (request, options) =>
      (client ??= newSecretManagerClient(localHost)).accessSecretVersion(request, options),
  };
}

/** The full client (loads the library now): for what administers secrets (tests, the local stack). */
export function newSecretManagerClient(localHost: string | null): SecretManagerServiceClient {
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { SecretManagerServiceClient } =
    require("@google-cloud/secret-manager") as typeof import("@google-cloud/secret-manager");
  if (!localHost) return new SecretManagerServiceClient();
  const [host, port] = localHost.split(":");
  // A local server has no cloud metadata service: do not let the auth library probe for one.
  process.env.METADATA_SERVER_DETECTION ??= "none";
  const { grpc } = require("google-gax") as typeof import("google-gax");
  /* eslint-enable @typescript-eslint/no-require-imports */
  return new SecretManagerServiceClient({
    apiEndpoint: host,
    port: Number(port),
    sslCreds: grpc.credentials.createInsecure(),
  });
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
