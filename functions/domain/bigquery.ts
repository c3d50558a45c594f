import { invalidArgument } from "./errors";

/** The deployed name of the endpoint BigQuery calls. */
export const BATCH_FUNCTION = "salts-pseudonymizeBatch";

/** Most calls in one request: their replies fit one stored answer (under Firestore's 1 MiB document). */
export const MAX_BATCH_CALLS = 10_000;

/** The `max_batching_rows` the generated DDL asks for: a batch of new users still answers in about a second. */
export const DDL_MAX_BATCHING_ROWS = 1000;

/**
 * The function's URL, which is also the audience of the ID tokens BigQuery sends (the endpoint in
 * the DDL): Cloud Functions' URL of the deployed function, or the emulator's form of it.
 */
export function batchEndpointUrl(where: {
  projectId: string;
  region: string;
  emulatorHost?: string;
}): string {
  return where.emulatorHost
    ? `http://${where.emulatorHost}/${where.projectId}/${where.region}/${BATCH_FUNCTION}`
    : `https://${where.region}-${where.projectId}.cloudfunctions.net/${BATCH_FUNCTION}`;
}

/** Comma-separated emails as BIGQUERY_INVOKERS holds them, trimmed and lower-cased. */
export const invokerList = (value: string | null): string[] =>
  (value ?? "")
    .split(",")
    .map((e) => e.trim().toLowerCase())
    .filter((e) => e.length > 0);

export interface DdlOptions {
  /** `project.dataset` the functions are created in. */
  dataset: string;
  /** `project.location.connection_id` of a CLOUD_RESOURCE connection. */
  connection: string;
  /** The endpoint (https). */
  url: string;
  /** The field name the pseudonyms are made for (`userDefinedContext.field`); default `value`. */
  field?: string | undefined;
  /** A scope (`userDefinedContext.scope`): the functions answer that scope's pairwise pseudonyms. */
  scope?: string | undefined;
}

// BigQuery's names: project ids (also the legacy domain-scoped form), dataset ids, locations, connection ids.
const PROJECT = /^(?:[a-z][a-z0-9.-]*:)?[a-z][a-z0-9-]{4,28}[a-z0-9]$/;
const DATASET = /^[A-Za-z0-9_]{1,1024}$/;
const LOCATION = /^[A-Za-z][A-Za-z0-9-]{1,40}$/;
const CONNECTION = /^[A-Za-z0-9_-]{1,1024}$/;
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,100}$/;
const SCOPE = /^[a-z0-9_-]{1,40}$/;
// Inside a single-quoted SQL literal nothing needs escaping, so nothing that would is allowed.
const URL_TEXT = /^https:\/\/[A-Za-z0-9.-]+(?::[0-9]{1,5})?(?:\/[A-Za-z0-9._~!$&()*+,;=:@%/-]*)?$/;

/** The remote functions, one per mode, in GoogleSQL DDL (docs/BIGQUERY.md explains each line). */
export function bigqueryDdl(o: DdlOptions): string {
  const [project, dataset, ...restDs] = o.dataset.split(".");
  const [cProject, location, connection, ...restConn] = o.connection.split(".");
  const issues = [];
  if (!project || !dataset || restDs.length > 0 || !PROJECT.test(project) || !DATASET.test(dataset))
    issues.push({ path: "dataset", message: "must be PROJECT.DATASET" });
  if (
    !cProject ||
    !location ||
    !connection ||
    restConn.length > 0 ||
    !PROJECT.test(cProject) ||
    !LOCATION.test(location) ||
    !CONNECTION.test(connection)
  )
    issues.push({ path: "connection", message: "must be PROJECT.LOCATION.CONNECTION_ID" });
  if (!URL_TEXT.test(o.url)) issues.push({ path: "url", message: "must be an https URL" });
  const field = o.field ?? "value";
  if (!IDENTIFIER.test(field))
    issues.push({ path: "field", message: "must be a column-like name ([A-Za-z_][A-Za-z0-9_]*)" });
  if (o.scope !== undefined && !SCOPE.test(o.scope))
    issues.push({ path: "scope", message: "must be a scope id ([a-z0-9_-], 1 to 40 characters)" });
  if (issues.length > 0) throw invalidArgument(issues);

  const suffix =
    (o.field === undefined ? "" : `_${field}`) +
    (o.scope === undefined ? "" : `_${o.scope.replace(/-/g, "_")}`);
  const context = (mode: string) =>
    `[${[
      `("mode", "${mode}")`,
      ...(o.field === undefined ? [] : [`("field", "${field}")`]),
      ...(o.scope === undefined ? [] : [`("scope", "${o.scope}")`]),
    ].join(", ")}]`;
  const inScope = o.scope === undefined ? "" : ` in scope "${o.scope}"`;
  const fn = (name: string, args: string, mode: string) =>
    [
      `CREATE OR REPLACE FUNCTION \`${project}.${dataset}.${name}${suffix}\`(${args})`,
      "RETURNS STRING",
      `REMOTE WITH CONNECTION \`${cProject}.${location}.${connection}\``,
      "OPTIONS (",
      `  endpoint = '${o.url}',`,
      `  user_defined_context = ${context(mode)},`,
      `  max_batching_rows = ${DDL_MAX_BATCHING_ROWS}`,
      ");",
    ].join("\n");
  return [
    `-- Pseudonyms of one user's values (mode "user"), field "${field}"${inScope}.`,
    fn("pseudonymize_user", "user_id STRING, value STRING", "user"),
    "",
    `-- Pseudonyms of analytics events' values (mode "event"), field "${field}"${inScope}, bound to user_id when it names one.`,
    fn("pseudonymize_event", "event_type STRING, value STRING, user_id STRING", "event"),
    "",
    `-- The pseudonym under the user's previous salt version (mode "user_previous"), field "${field}"${inScope}:`,
    `-- NULL outside LINK_WINDOW_HOURS after the user's last rotation, and for an erased or unknown user.`,
    fn("pseudonymize_user_previous", "user_id STRING, value STRING", "user_previous"),
    "",
  ].join("\n");
}
