import { randomUUID } from "node:crypto";
import { CliError, usage } from "./exits";
import { resolveProject } from "./project";
import { invoke, type Answer, type Transport } from "./transport";
import type { DirectTransport } from "./direct";
import { formatOf, type Format } from "../ui/output";

/** The global flags every command accepts. */
export interface GlobalOptions {
  project?: string;
  region: string;
  direct?: boolean;
  json?: boolean;
  output?: string;
  verbose?: boolean;
  color?: boolean;
  timeout: string;
  /** A command's --wait: for a guarded call, wait for the second admin's decision. */
  wait?: boolean;
  interval?: number;
}

/**
 * One run of the CLI: the chosen project, mode and output format, and the
 * transport, built on first use so commands that never call the service
 * (help, completion, login) load none of it.
 */
export class Session {
  readonly correlationId = `cli-${randomUUID()}`;
  readonly format: Format;
  private transportPromise: Promise<Transport> | null = null;
  private inProcessPromise: Promise<DirectTransport> | null = null;

  constructor(readonly opts: GlobalOptions) {
    this.format = formatOf(opts);
  }

  get mode(): "callable" | "direct" {
    return this.opts.direct ? "direct" : "callable";
  }

  projectOrNull(): string | null {
    return resolveProject(this.opts.project);
  }

  project(): string {
    const p = this.projectOrNull();
    if (!p)
      throw usage(
        "No Firebase project chosen",
        "pass --project <id>, set SALTS_PROJECT, or run inside a folder with a .firebaserc",
      );
    return p;
  }

  get timeoutMs(): number {
    const s = Number(this.opts.timeout);
    if (!Number.isFinite(s) || s <= 0)
      throw usage(`--timeout must be a number of seconds (got "${this.opts.timeout}")`);
    return s * 1000;
  }

  transport(): Promise<Transport> {
    this.transportPromise ??= this.opts.direct
      ? this.inProcess()
      : import("./callable.js").then((m) =>
          m.callableTransport({
            project: this.project(),
            region: this.opts.region,
            timeoutMs: this.timeoutMs,
            correlationId: this.correlationId,
          }),
        );
    return this.transportPromise;
  }

  /** The operations and services in this process (direct mode; local files). */
  inProcess(): Promise<DirectTransport> {
    this.inProcessPromise ??= import("./direct.js").then((m) =>
      m.directTransport(this.projectOrNull(), this.correlationId),
    );
    return this.inProcessPromise;
  }

  /** The in-process services, for the commands that only exist in direct mode. */
  async direct(command: string, why: string): Promise<DirectTransport> {
    if (!this.opts.direct) {
      throw new CliError(
        "usage",
        `${command} runs only in direct mode: ${why}`,
        {},
        `add --direct (break-glass, with your Google credentials)`,
      );
    }
    return this.inProcess();
  }

  async call(
    name: string,
    data: Record<string, unknown> = {},
    options: { requestId?: string } = {},
  ): Promise<Answer> {
    const answer = await invoke(await this.transport(), name, data, options);
    if (answer.pending_approval === undefined || answer.pending_approval === null) return answer;
    const { settlePending } = await import("./approvals.js");
    return settlePending(this, answer, {
      wait: this.opts.wait === true,
      intervalMs: (this.opts.interval ?? 2) * 1000,
      quiet: this.format !== "human" && !this.opts.verbose,
    });
  }

  async close(): Promise<void> {
    for (const p of new Set([this.transportPromise, this.inProcessPromise])) {
      if (p) await (await p.catch(() => null))?.close();
    }
  }
}
