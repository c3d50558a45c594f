/** salts-pseudonymizeBatch: BigQuery's remote-function endpoint (edge/remoteFunction.ts, loaded on first call). */
import { onRequest } from "firebase-functions/https";
import { AUDIT_KEY, PSEUDONYM_PEPPER, SALT_ENCRYPTION_KEY } from "../config/params";
import { invokerList } from "../domain/bigquery";
import { loadOnFirstCall } from "./lazy";
import { deployed, runAs } from "./options";

const invokers = invokerList(deployed.bigqueryInvokers);

export const pseudonymizeBatch = onRequest(
  {
    secrets: [PSEUDONYM_PEPPER, SALT_ENCRYPTION_KEY, AUDIT_KEY],
    // Only these service accounts get roles/run.invoker; the function checks their ID token too.
    invoker: invokers.length > 0 ? invokers : "private",
    concurrency: deployed.bigqueryConcurrency,
    maxInstances: deployed.bigqueryMaxInstances,
    cpu: 1,
    memory: "512MiB",
    timeoutSeconds: 120,
    ...runAs(deployed.serviceAccount),
  },
  loadOnFirstCall(async () => {
    const [{ services }, { serveBatch }] = await Promise.all([
      import("../app/instance.js"),
      import("../edge/remoteFunction.js"),
    ]);
    return (req: Parameters<typeof serveBatch>[1], res: Parameters<typeof serveBatch>[2]) =>
      serveBatch(services(), req, res);
  }),
);
