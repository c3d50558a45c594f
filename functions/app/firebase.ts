import { SecretManagerServiceClient } from "@google-cloud/secret-manager";
import { getApps, initializeApp } from "firebase-admin/app";
import { getFirestore, type Firestore } from "firebase-admin/firestore";

/** The default app's Firestore (the emulator when FIRESTORE_EMULATOR_HOST is set). */
export function adminFirestore(): Firestore {
  const app = getApps()[0] ?? initializeApp();
  return getFirestore(app);
}

/** A Secret Manager client: the real service, or a local server speaking its gRPC API (tests, local stack). */
export function secretManagerClient(localHost: string | null): SecretManagerServiceClient {
  if (!localHost) return new SecretManagerServiceClient();
  const [host, port] = localHost.split(":");
  // A local server has no cloud metadata service: do not let the auth library probe for one.
  process.env.METADATA_SERVER_DETECTION ??= "none";
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { grpc } = require("google-gax") as typeof import("google-gax");
  return new SecretManagerServiceClient({
    apiEndpoint: host,
    port: Number(port),
    sslCreds: grpc.credentials.createInsecure(),
  });
}
