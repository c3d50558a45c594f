import { createReadStream, createWriteStream } from "node:fs";
import { once } from "node:events";
import { createInterface } from "node:readline";
import type { Readable, Writable } from "node:stream";
import { usage } from "./exits";

/** Local record files for pseudonymize and verify: JSON lines or CSV with a header, files or stdin/stdout. */
export type RecordFormat = "jsonl" | "csv";
export type DataRecord = Record<string, unknown>;

export function recordFormat(path: string | undefined, flag: unknown): RecordFormat {
  if (flag === "jsonl" || flag === "csv") return flag;
  if (flag !== undefined) throw usage(`--format must be jsonl or csv (got "${String(flag)}")`);
  return path && /\.csv$/i.test(path) ? "csv" : "jsonl";
}

const input = (path: string | undefined): Readable =>
  path && path !== "-" ? createReadStream(path) : process.stdin;

/** Records one by one, streamed: a file of any size is never held whole. */
export async function* readRecords(
  path: string | undefined,
  format: RecordFormat,
): AsyncGenerator<DataRecord> {
  const stream = input(path);
  const opened = new Promise<void>((resolve, reject) => {
    stream.once("error", (e) => reject(usage(`Cannot read ${path}: ${e.message}`)));
    stream.once("readable", () => resolve());
    stream.once("end", () => resolve());
  });
  await opened;
  if (format === "csv") {
    const { parse } = await import("csv-parse");
    const parser = stream.pipe(parse({ columns: true, skip_empty_lines: true, bom: true }));
    try {
      for await (const row of parser) yield row as DataRecord;
    } catch (e) {
      throw usage(`${path ?? "stdin"} is not valid CSV: ${(e as Error).message}`);
    }
    return;
  }
  let line = 0;
  for await (const text of createInterface({ input: stream, crlfDelay: Infinity })) {
    line++;
    if (!text.trim()) continue;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      throw usage(`${path ?? "stdin"} line ${line} is not JSON`);
    }
    if (value === null || typeof value !== "object" || Array.isArray(value)) {
      throw usage(`${path ?? "stdin"} line ${line} is not a JSON object`);
    }
    yield value as DataRecord;
  }
}

const csvCell = (v: unknown): string =>
  v === null || v === undefined ? "" : typeof v === "object" ? JSON.stringify(v) : String(v);

/** Writes records in one format; CSV columns are the first record's. */
export class RecordWriter {
  private columns: string[] | null = null;
  private readonly out: Writable;

  constructor(
    private readonly format: RecordFormat,
    path: string | undefined,
  ) {
    this.out = path && path !== "-" ? createWriteStream(path) : process.stdout;
  }

  async write(record: DataRecord): Promise<void> {
    let text: string;
    if (this.format === "jsonl") {
      text = `${JSON.stringify(record)}\n`;
    } else {
      const { stringify } = await import("csv-stringify/sync");
      const header = this.columns === null;
      this.columns ??= Object.keys(record);
      text = stringify([this.columns.map((c) => csvCell(record[c]))], { header, columns: this.columns });
    }
    if (!this.out.write(text)) await once(this.out, "drain");
  }

  async end(): Promise<void> {
    if (this.out === process.stdout) return;
    this.out.end();
    await once(this.out, "finish");
  }
}
