import type { Storage } from "@google-cloud/storage";
import { z } from "zod";
import type { CheckpointSummary } from "../../domain/auditLedger";
import { unavailable } from "../../domain/errors";
import type { AnchorStore } from "../../ports/anchorStore";

const anchorSchema = z.object({
  id: z.string(),
  seq: z.number().int().min(1),
  prev: z.string().nullable(),
  at: z.iso.datetime().transform((s) => new Date(s)),
  chains: z.number().int().min(0),
  pages: z.number().int().min(0),
  digest: z.string(),
  key_version: z.number().int().min(1),
  mac: z.string(),
});

// Names sort newest first (Cloud Storage lists in name order), so the newest is the first listed.
const NEWEST_FIRST = 9_999_999_999;
const objectName = (prefix: string, seq: number) =>
  `${prefix}audit-checkpoints/${String(NEWEST_FIRST - seq).padStart(10, "0")}.json`;

/** Cloud Storage's answer to a create whose precondition failed: the object exists already. */
const PRECONDITION_FAILED = 412;

/**
 * Checkpoint anchors as objects in a Cloud Storage bucket under a locked
 * retention policy: created with `ifGenerationMatch: 0` (never over an existing
 * one), never overwritten or deleted by this service, which needs only
 * `storage.objects.create`, `get` and `list` on the bucket (no delete), and which
 * the retention lock keeps even from the bucket's owner until retention ends.
 * `STORAGE_EMULATOR_HOST` points the client at a local server (tests, local stack).
 */
export class BucketAnchorStore implements AnchorStore {
  private readonly bucketName: string;
  private readonly prefix: string;

  private client: Storage | null = null;

  /** `storage` is called on first use: only the sweep and auditVerify ever anchor or read anchors. */
  constructor(
    private readonly storage: () => Storage,
    setting: string,
    private readonly timeoutMs = 20_000,
  ) {
    const [bucket, ...path] = setting.split("/");
    this.bucketName = bucket!;
    this.prefix = path.length > 0 ? `${path.join("/")}/` : "";
  }

  get location(): string {
    return `gs://${this.bucketName}/${this.prefix}audit-checkpoints/`;
  }

  private bucket() {
    return (this.client ??= this.storage()).bucket(this.bucketName);
  }

  private async deadline<T>(operation: string, run: () => Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(unavailable(`Cloud Storage did not answer within ${this.timeoutMs} ms (${operation})`)),
        this.timeoutMs,
      );
    });
    try {
      return await Promise.race([run(), expired]);
    } catch (e) {
      if ((e as { code?: unknown }).code === PRECONDITION_FAILED) throw e;
      throw e instanceof Error && e.name === "SaltServiceError"
        ? e
        : unavailable(`Cloud Storage is unavailable (${operation})`, e);
    } finally {
      clearTimeout(timer);
    }
  }

  latest(): Promise<CheckpointSummary | "malformed" | null> {
    return this.deadline("anchor.latest", async () => {
      const [files] = await this.bucket().getFiles({
        prefix: `${this.prefix}audit-checkpoints/`,
        maxResults: 1,
        autoPaginate: false,
      });
      const file = files[0];
      if (!file) return null;
      const [bytes] = await file.download();
      let json: unknown;
      try {
        json = JSON.parse(bytes.toString("utf8"));
      } catch {
        return "malformed";
      }
      const parsed = anchorSchema.safeParse(json);
      return parsed.success && file.name === objectName(this.prefix, parsed.data.seq)
        ? parsed.data
        : "malformed";
    });
  }

  async put(summary: CheckpointSummary): Promise<{ object: string; created: boolean }> {
    const name = objectName(this.prefix, summary.seq);
    const object = `gs://${this.bucketName}/${name}`;
    const body = JSON.stringify({ ...summary, at: summary.at.toISOString() });
    try {
      await this.deadline("anchor.put", () =>
        this.bucket()
          .file(name)
          .save(body, {
            resumable: false,
            contentType: "application/json",
            preconditionOpts: { ifGenerationMatch: 0 },
          }),
      );
      return { object, created: true };
    } catch (e) {
      if ((e as { code?: unknown }).code === PRECONDITION_FAILED) return { object, created: false };
      throw e;
    }
  }
}
