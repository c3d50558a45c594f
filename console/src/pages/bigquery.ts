import { html, nothing } from "lit";
import type { ApiError } from "../api";
import type { ConsoleContext } from "../context";
import type { BigqueryInfoResponse } from "../types";
import { LightElement } from "../ui/base";
import { notAvailable } from "../ui/error-panel";
import { num, relative, utc } from "../ui/format";

/**
 * BigQuery: the remote-function endpoint (salts-pseudonymizeBatch), who may call it, and the
 * BigQuery jobs that used it recently (one audit entry per job and session user), from
 * salts-bigqueryInfo. Read-only: auditors see all of it.
 */
export class BigqueryPage extends LightElement {
  static override properties = {
    ctx: { attribute: false },
    info: { state: true },
    error: { state: true },
  };
  ctx!: ConsoleContext;
  info: BigqueryInfoResponse | null = null;
  error: unknown = null;

  override connectedCallback() {
    super.connectedCallback();
    void this.load();
  }

  private async load() {
    try {
      this.info = await this.ctx.api.call("bigqueryInfo", { limit: 20 });
      this.error = null;
    } catch (e) {
      this.error = e;
    }
  }

  /** Under the emulators, the URL the local stack answers on (the console knows its functions host). */
  private localUrl(): string | null {
    const e = this.ctx.config.emulators;
    if (!e) return null;
    const { projectId } = this.ctx.config.firebase;
    return `http://${e.functions.host}:${e.functions.port}/${projectId}/${this.ctx.config.region}/salts-pseudonymizeBatch`;
  }

  override render() {
    const err = this.error as ApiError | null;
    return html`<div class="page-head">
        <h1 tabindex="-1">BigQuery</h1>
        <button class="btn btn-ghost" type="button" @click=${() => void this.load()} data-testid="refresh">
          Refresh
        </button>
      </div>
      ${err?.notAvailable ? notAvailable("The BigQuery page (salts-bigqueryInfo)") : html`<error-panel .error=${this.error}></error-panel>`}
      ${this.info ? this.body(this.info) : this.error ? nothing : html`<p class="muted" aria-busy="true">Loading…</p>`}`;
  }

  private body(i: BigqueryInfoResponse) {
    const local = this.localUrl();
    return html`<section class="panel" aria-labelledby="endpoint-h">
        <h2 id="endpoint-h">Endpoint</h2>
        <dl class="facts">
          <div>
            <dt>URL (the DDL's <code>endpoint</code>)</dt>
            <dd class="mono id" data-testid="endpoint">${i.endpoint}</dd>
          </div>
          ${
            local
              ? html`<div>
                  <dt>Local emulator</dt>
                  <dd class="mono id" data-testid="local-endpoint">${local}</dd>
                </div>`
              : nothing
          }
          <div>
            <dt>Rows per request</dt>
            <dd>
              <code>max_batching_rows</code> ${num(i.max_batching_rows)}
              <span class="muted">(at most ${num(i.max_calls)})</span>
            </dd>
          </div>
          <div>
            <dt>Invokers (<code>BIGQUERY_INVOKERS</code>)</dt>
            <dd data-testid="invokers">
              ${
                i.invokers.length > 0
                  ? html`<ul class="plain">
                      ${i.invokers.map((e) => html`<li class="mono id">${e}</li>`)}
                    </ul>`
                  : html`<span class="badge badge-warn">none</span> every call is refused`
              }
            </dd>
          </div>
        </dl>
        <p class="muted small">
          Create the functions with
          <code>salts bigquery ddl --dataset PROJECT.DATASET --connection PROJECT.LOCATION.CONNECTION</code>;
          the connection's service account must be an invoker (docs/BIGQUERY.md).
        </p>
      </section>
      <section class="panel" aria-labelledby="jobs-h">
        <h2 id="jobs-h">Recent BigQuery jobs</h2>
        ${
          i.recent_jobs.length === 0
            ? html`<div class="empty" data-testid="no-jobs">
                <p class="empty-title">No BigQuery job has called the endpoint yet</p>
                <p>Each job and session user that does is recorded once in the audit log.</p>
              </div>`
            : html`<div class="table-wrap" tabindex="0" role="region" aria-label="Recent BigQuery jobs">
                <table class="table" data-testid="jobs-table">
                  <thead>
                    <tr>
                      <th scope="col">First batch (UTC)</th>
                      <th scope="col">Session user</th>
                      <th scope="col">Job</th>
                      <th scope="col">Mode</th>
                      <th scope="col">Invoker</th>
                      <th scope="col">Correlation id</th>
                    </tr>
                  </thead>
                  <tbody>
                    ${i.recent_jobs.map(
                      (j) =>
                        html`<tr>
                          <td class="nowrap" title=${relative(j.first_seen)}>
                            ${utc(j.first_seen, true).replace(" UTC", "")}
                          </td>
                          <td class="mono id">${j.session_user}</td>
                          <td class="mono id small">
                            ${j.caller ?? html`<span class="muted">(none sent)</span>`}
                          </td>
                          <td class="mono">
                            ${j.mode ?? "—"}${j.scope ? html` <span class="muted">(${j.scope})</span>` : nothing}
                          </td>
                          <td class="mono id small">${j.invoker ?? "—"}</td>
                          <td class="mono small nowrap corr" title=${j.correlation_id}>
                            ${j.correlation_id}
                          </td>
                        </tr>`,
                    )}
                  </tbody>
                </table>
              </div>`
        }
        <p class="muted small">
          From the audit log (operation <code>pseudonymize_batch</code>): one entry per job and session user,
          however many batches the job sent.
        </p>
      </section>`;
  }
}
customElements.define("bigquery-page", BigqueryPage);
