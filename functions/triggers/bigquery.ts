/** salts-pseudonymizeBatch: BigQuery's remote-function endpoint (edge/remoteFunction.ts does the work). */
import { onRequest } from "firebase-functions/https";
import { services } from "../app/instance";
import { AUDIT_KEY, PSEUDONYM_PEPPER, SALT_ENCRYPTION_KEY } from "../config/params";
import { invokerList } from "../domain/bigquery";
import { serveBatch } from "../edge/remoteFunction";
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
  (req, res) => serveBatch(services(), req, res),
);
