import { html, nothing } from "lit";
import type { ApiError } from "../api";
import { canMutate, type ConsoleContext } from "../context";
import type { JobStatus, ListJobsResponse, RewrapResponse, RotateDueResponse } from "../types";
import { LightElement } from "../ui/base";
import { notAvailable } from "../ui/error-panel";
import { num, utc } from "../ui/format";

const POLL_MS = 1000;

/** What each job type does to an item, for its progress line. */
const DONE_VERB: Record<string, string> = {
  rotation: "rotated",
  rewrap: "re-encrypted",
  reschedule: "rescheduled",
};

/** Items a job has acted on, for either job type and for servers before and after `processed`. */
export const doneOf = (j: JobStatus): number =>
  j.processed ?? (j.type === "rewrap" ? (j.rewrapped ?? 0) : j.rotated);

type Kind = "all" | "user" | "global";

/** One followed job: what was started and its latest progress. */
interface Followed {
  type: string;
  jobId: string;
  status: JobStatus | null;
  error: unknown;
}

export class JobsPage extends LightElement {
  static override properties = {
    ctx: { attribute: false },
    plan: { state: true },
    rewrapPlan: { state: true },
    rewrapError: { state: true },
    followed: { state: true },
    busy: { state: true },
    error: { state: true },
    retry: { state: true },
    jobs: { state: true },
    jobsError: { state: true },
  };
  ctx!: ConsoleContext;
  plan: RotateDueResponse | null = null;
  rewrapPlan: RewrapResponse | null = null;
  rewrapError: unknown = null;
  followed: Followed | null = null;
  busy = false;
  error: unknown = null;
  retry: (() => void) | null = null;
  jobs: ListJobsResponse | null = null;
  jobsError: unknown = null;
  private timer: number | undefined;

  override connectedCallback() {
    super.connectedCallback();
    void this.loadJobs();
    // Deep link from elsewhere in the console (e.g. the reschedule job a reload started).
    const jobId = new URLSearchParams(location.search).get("job");
    if (jobId && /^[A-Za-z0-9_-]{1,128}$/.test(jobId)) this.follow("job", jobId);
  }

  override disconnectedCallback() {
    super.disconnectedCallback();
    window.clearTimeout(this.timer);
  }

  private async loadJobs() {
    try {
      this.jobs = await this.ctx.api.call("listJobs", { limit: 20 });
      this.jobsError = null;
    } catch (e) {
      this.jobsError = e;
    }
  }

  private selection(form: HTMLFormElement): { kind: Kind; limit?: number } {
    const f = new FormData(form);
    const kind = (String(f.get("kind") ?? "all") as Kind) || "all";
    const limitText = String(f.get("limit") ?? "").trim();
    return limitText ? { kind, limit: Number(limitText) } : { kind };
  }

  private async act<R>(run: () => Promise<R>, done: (r: R) => void) {
    this.busy = true;
    this.error = null;
    this.retry = null;
    try {
      done(await run());
    } catch (e) {
      this.error = e;
      const again = (e as ApiError).retry;
      this.retry = again ? () => void this.act(again as () => Promise<R>, done) : null;
    } finally {
      this.busy = false;
    }
  }

  private dryRun(e: Event) {
    const form = (e.target as HTMLElement).closest("form")!;
    if (!form.reportValidity()) return;
    const sel = this.selection(form);
    void this.act(
      () => this.ctx.api.call("rotateDue", { ...sel, dry_run: true }),
      (r) => (this.plan = r),
    );
  }

  private start(e: SubmitEvent) {
    e.preventDefault();
    const sel = this.selection(e.target as HTMLFormElement);
    void this.act(
      () => this.ctx.api.call("rotateDue", { ...sel, dry_run: false }),
      (r) => {
        this.plan = null;
        this.follow("rotation", r.job_id);
      },
    );
  }

  private follow(type: Followed["type"], jobId: string) {
    window.clearTimeout(this.timer);
    this.followed = { type, jobId, status: null, error: null };
    void this.poll();
  }

  private onFollow(e: SubmitEvent) {
    e.preventDefault();
    const id = String(new FormData(e.target as HTMLFormElement).get("job_id") ?? "").trim();
    if (id) this.follow("rotation", id);
  }

  private async poll() {
    const f = this.followed;
    if (!f) return;
    try {
      const status = await this.ctx.api.call("job", { job_id: f.jobId });
      this.followed = { ...f, type: status.type ?? f.type, status, error: null };
      if (status.state === "running") this.timer = window.setTimeout(() => void this.poll(), POLL_MS);
      else void this.loadJobs();
    } catch (e) {
      this.followed = { ...f, error: e };
      // A transient failure keeps following; anything else stops.
      const code = (e as ApiError).code;
      if (code === "unavailable" || code === "deadline-exceeded" || code === "resource-exhausted")
        this.timer = window.setTimeout(() => void this.poll(), POLL_MS * 3);
    }
  }

  override render() {
    const admin = canMutate(this.ctx);
    return html`<div class="page-head"><h1 tabindex="-1">Jobs</h1></div>
      <error-panel .error=${this.error} .retry=${this.retry}></error-panel>
      ${this.followed ? this.progress(this.followed) : nothing} ${admin ? this.rotationForm() : nothing}
      ${admin ? this.rewrapPanel() : nothing}
      <section class="panel" aria-labelledby="follow-h">
        <h2 id="follow-h">Follow a job</h2>
        <form class="inline-form" @submit=${this.onFollow}>
          <div class="field grow">
            <label for="job-id">Job id</label>
            <input
              id="job-id"
              name="job_id"
              required
              class="mono"
              autocomplete="off"
              spellcheck="false"
              pattern="[A-Za-z0-9_\\-]{1,128}"
            />
          </div>
          <button class="btn" type="submit">Follow</button>
        </form>
      </section>
      ${this.recent()}`;
  }

  private rotationForm() {
    const p = this.plan;
    return html`<section class="panel" aria-labelledby="rotate-h">
      <h2 id="rotate-h">Batch rotation of due salts</h2>
      <p class="muted small">
        Rotates every salt whose next rotation has passed. Plan first: a dry run counts what would rotate and
        changes nothing.
      </p>
      <form class="inline-form" @submit=${this.start} data-testid="rotate-due-form">
        <div class="field">
          <label for="kind">Salts</label>
          <select id="kind" name="kind">
            <option value="all">User and global</option>
            <option value="user">User only</option>
            <option value="global">Global only</option>
          </select>
        </div>
        <div class="field">
          <label for="limit">At most <span class="muted">(optional)</span></label>
          <input id="limit" name="limit" type="number" min="1" max="1000000" step="1" inputmode="numeric" />
        </div>
        <button class="btn" type="button" @click=${this.dryRun} ?disabled=${this.busy}>Plan (dry run)</button>
        <button class="btn btn-primary" type="submit" ?disabled=${this.busy}>Start rotation</button>
      </form>
      ${
        p
          ? html`<div class="notice notice-info" role="status" data-testid="plan">
              <p class="notice-title">
                Dry run: ${num(Math.min(p.due.users + p.due.globals, Number.MAX_SAFE_INTEGER))} salts would
                rotate
              </p>
              <p>
                ${num(p.due.users)} user salts and ${num(p.due.globals)} global salts are due. Nothing was
                changed.
              </p>
              <p class="notice-meta">Correlation id <code>${p.correlation_id}</code></p>
            </div>`
          : nothing
      }
    </section>`;
  }

  private rewrapPanel() {
    const err = this.rewrapError as ApiError | null;
    const p = this.rewrapPlan;
    return html`<section class="panel" aria-labelledby="rewrap-h">
      <h2 id="rewrap-h">Re-encrypt salts under the current key (rewrap)</h2>
      <p class="muted small">
        Re-encrypts every stored salt version with the current encryption key version. Salts and pseudonyms do
        not change; afterwards older key versions can be disabled.
      </p>
      ${err?.notAvailable ? notAvailable("Rewrap (salts-rewrap)") : nothing}
      <div class="button-row">
        <button class="btn" type="button" ?disabled=${this.busy} @click=${() => this.rewrapGuarded(true)}>
          Plan rewrap (dry run)
        </button>
        <button
          class="btn btn-primary"
          type="button"
          ?disabled=${this.busy}
          @click=${() => this.rewrapGuarded(false)}
        >
          Start rewrap
        </button>
      </div>
      ${
        p
          ? html`<div class="notice notice-info" role="status" data-testid="rewrap-plan">
              <p class="notice-title">Dry run: ${num(p.total)} salt versions would be re-encrypted</p>
              <p>Nothing was changed.</p>
              <p class="notice-meta">Correlation id <code>${p.correlation_id}</code></p>
            </div>`
          : nothing
      }
    </section>`;
  }

  private rewrapGuarded(dryRun: boolean) {
    const done = (r: RewrapResponse) => {
      if (dryRun) this.rewrapPlan = r;
      else {
        this.rewrapPlan = null;
        this.follow("rewrap", r.job_id);
      }
    };
    this.rewrapError = null;
    void this.act(
      () =>
        this.ctx.api.call("rewrap", { dry_run: dryRun }).catch((e: ApiError) => {
          // A server without rewrap: say so in the panel rather than as a failure.
          if (e.notAvailable) this.rewrapError = e;
          throw e;
        }),
      done,
    ).then(() => {
      if (this.rewrapError) this.error = null;
    });
  }

  private progress(f: Followed) {
    const s = f.status;
    const processed = s ? doneOf(s) + s.failed + (s.skipped ?? 0) : 0;
    const total = s?.total ?? 0;
    const pct = total > 0 ? Math.round((processed / total) * 100) : s?.state === "done" ? 100 : 0;
    const label = f.type.charAt(0).toUpperCase() + f.type.slice(1);
    return html`<section class="panel panel-accent" aria-labelledby="progress-h" data-testid="job-progress">
      <div class="panel-head">
        <h2 id="progress-h">${label} job <span class="mono id">${f.jobId}</span></h2>
        ${s ? html`<span class="badge ${s.state === "done" ? "badge-ok" : s.state === "failed" ? "badge-bad" : "badge-info"}" data-testid="job-state">${s.state}</span>` : nothing}
      </div>
      ${
        s
          ? html`<div class="progress-row">
                <progress
                  max=${Math.max(total, 1)}
                  value=${total > 0 ? processed : s.state === "done" ? 1 : 0}
                  aria-label=${`${label} progress`}
                  data-testid="job-bar"
                ></progress>
                <span class="progress-pct" aria-hidden="true">${pct}%</span>
              </div>
              <p role="status" data-testid="job-counts">
                ${num(doneOf(s))} ${DONE_VERB[f.type] ?? "processed"}, ${num(s.failed)}
                failed${s.skipped ? html`, ${num(s.skipped)} skipped` : nothing} of ${num(total)}. Started
                ${utc(s.started_at, true)}${s.finished_at ? html`, finished ${utc(s.finished_at, true)}` : nothing}.
              </p>
              ${s.error ? html`<p class="text-bad">${s.error}</p>` : nothing}`
          : f.error
            ? nothing
            : html`<p aria-busy="true">Reading progress…</p>`
      }
      <error-panel .error=${f.error}></error-panel>
    </section>`;
  }

  private recent() {
    const err = this.jobsError as ApiError | null;
    let body;
    if (err?.notAvailable) body = notAvailable("The list of recent jobs (salts-listJobs)");
    else if (err) body = html`<error-panel .error=${err} .retry=${() => void this.loadJobs()}></error-panel>`;
    else if (!this.jobs) body = html`<p class="muted" aria-busy="true">Loading recent jobs…</p>`;
    else if (this.jobs.jobs.length === 0)
      body = html`<div class="empty">
        <p class="empty-title">No jobs yet</p>
        <p>Batch rotations and rewraps appear here.</p>
      </div>`;
    else
      body = html`<div class="table-wrap" tabindex="0" role="region" aria-label="Recent jobs">
        <table class="table" data-testid="jobs-table">
          <thead>
            <tr>
              <th scope="col">Job id</th>
              <th scope="col">Type</th>
              <th scope="col">State</th>
              <th scope="col" class="num">Done / total</th>
              <th scope="col" class="num">Failed</th>
              <th scope="col">Started (UTC)</th>
              <th scope="col">Finished (UTC)</th>
            </tr>
          </thead>
          <tbody>
            ${this.jobs.jobs.map(
              (j) =>
                html`<tr>
                  <td class="mono id">
                    <button
                      type="button"
                      class="linklike mono"
                      @click=${() => this.follow(j.type ?? "rotation", j.job_id)}
                    >
                      ${j.job_id}
                    </button>
                  </td>
                  <td>
                    ${j.type ?? "rotation"}${j.dry_run ? html` <span class="muted">(dry run)</span>` : nothing}
                  </td>
                  <td>
                    <span
                      class="badge ${j.state === "done" ? "badge-ok" : j.state === "failed" ? "badge-bad" : "badge-info"}"
                      >${j.state}</span
                    >
                  </td>
                  <td class="num">${num(doneOf(j) + (j.skipped ?? 0))} / ${num(j.total)}</td>
                  <td class="num">${num(j.failed)}</td>
                  <td>${utc(j.started_at, true)}</td>
                  <td>${utc(j.finished_at, true)}</td>
                </tr>`,
            )}
          </tbody>
        </table>
      </div>`;
    return html`<section class="panel" aria-labelledby="recent-h">
      <div class="panel-head">
        <h2 id="recent-h">Recent jobs</h2>
        <button class="btn btn-sm" type="button" @click=${this.loadJobs}>Refresh</button>
      </div>
      ${body}
    </section>`;
  }
}
customElements.define("jobs-page", JobsPage);
