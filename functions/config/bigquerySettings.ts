/** The settings of salts-pseudonymizeBatch (BigQuery's endpoint), spread into SETTINGS (settings.ts). */
export const BIGQUERY_SETTINGS = {
  bigqueryInvokers: {
    env: "BIGQUERY_INVOKERS",
    type: "string",
    default: null,
    // Comma-separated service-account emails (spaces allowed around commas).
    pattern: /^\s*[^\s,@]+@[^\s,@]+(\s*,\s*[^\s,@]+@[^\s,@]+)*\s*$/,
    scope: "env",
    description:
      "Service accounts (comma-separated emails) that may call `salts-pseudonymizeBatch`: the BigQuery connection's, pipelines'. " +
      "Deployed as the function's invokers and checked against the caller's ID token; empty: every call is refused.",
  },
  bigqueryMaxInstances: {
    env: "BIGQUERY_MAX_INSTANCES",
    type: "int",
    default: 100,
    min: 1,
    max: 1000,
    scope: "env",
    description:
      "Most instances `salts-pseudonymizeBatch` scales to (read at deploy): with its concurrency, what bounds its load on Firestore and its cost.",
  },
  bigqueryConcurrency: {
    env: "BIGQUERY_CONCURRENCY",
    type: "int",
    default: 16,
    min: 1,
    max: 1000,
    scope: "env",
    description: "Batches one `salts-pseudonymizeBatch` instance serves at once (read at deploy).",
  },
} as const;
