import { createHash, timingSafeEqual } from "node:crypto";
import type { Request } from "firebase-functions/https";
import type { Services } from "../usecases/deps";
import { logs } from "../observability/logs";
import { METRICS_CONTENT_TYPE, renderMetrics } from "../observability/prometheus";

interface Res {
  status(code: number): Res;
  set(field: string, value: string): Res;
  send(body: string): unknown;
}

const digest = (s: string): Buffer => createHash("sha256").update(s, "utf8").digest();

/** Compares digests so neither length nor content leaks through timing. */
export function tokenMatches(presented: string, expected: string): boolean {
  // The usual `openssl rand | gcloud secrets create` recipe stores a trailing newline: blanks are not part of a token.
  const want = expected.trim();
  return want.length > 0 && timingSafeEqual(digest(presented.trim()), digest(want));
}

/** GET salts-metrics: Prometheus text, only when enabled, only with the bearer token. */
export async function serveMetrics(
  rt: Pick<Services, "config" | "metricsStore" | "salts" | "settings">,
  expected: string,
  req: Request,
  res: Res,
): Promise<void> {
  if (!rt.config.enableMetrics) {
    res.status(404).send("metrics are disabled (ENABLE_METRICS=false)\n");
    return;
  }
  if (req.method !== "GET") {
    res.status(405).set("Allow", "GET").send("method not allowed\n");
    return;
  }
  if (expected.trim() === "") {
    // Fail closed: without a configured token nobody may scrape.
    res.status(503).send("METRICS_TOKEN is not configured\n");
    return;
  }
  const presented = /^Bearer\s+(\S+)$/i.exec(req.get("authorization") ?? "")?.[1] ?? "";
  if (!tokenMatches(presented, expected)) {
    res.status(401).set("WWW-Authenticate", 'Bearer realm="salts-metrics"').send("unauthorized\n");
    return;
  }
  try {
    const [aggregates, user, global, sweep] = await Promise.all([
      rt.metricsStore.read(),
      rt.salts.countDue("user"),
      rt.salts.countDue("global"),
      rt.settings.readSweepState(),
    ]);
    const keyVersions =
      typeof sweep.key_versions === "string"
        ? (JSON.parse(sweep.key_versions) as Record<string, number>)
        : {};
    res
      .status(200)
      .set("Content-Type", METRICS_CONTENT_TYPE)
      .send(await renderMetrics(aggregates, { user, global }, keyVersions));
  } catch (e) {
    logs.unexpectedError("metrics", "metrics", e);
    res.status(503).send("storage unavailable\n");
  }
}
