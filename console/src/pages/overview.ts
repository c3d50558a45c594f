import { html, nothing } from "lit";
import type { ApiError } from "../api";
import type { ConsoleContext } from "../context";
import type { ForecastResponse, StatusResponse } from "../types";
import { LightElement } from "../ui/base";
import { notAvailable } from "../ui/error-panel";
import "../ui/forecast-chart";
import { num, relative, utc } from "../ui/format";

export class OverviewPage extends LightElement {
  static override properties = {
    ctx: { attribute: false },
    status: { state: true },
    statusError: { state: true },
    forecast: { state: true },
    forecastError: { state: true },
    loading: { state: true },
  };
  ctx!: ConsoleContext;
  status: StatusResponse | null = null;
  statusError: unknown = null;
  forecast: ForecastResponse | null = null;
  forecastError: unknown = null;
  loading = false;

  override connectedCallback() {
    super.connectedCallback();
    void this.load();
  }

  private async load() {
    this.loading = true;
    // Both at once: the numbers must not wait for the chart.
    await Promise.all([
      this.ctx.api.call("status", {}).then(
        (s) => ((this.status = s), (this.statusError = null)),
        (e) => (this.statusError = e),
      ),
      this.ctx.api.call("forecast", { days: 90, kind: "all" }).then(
        (f) => ((this.forecast = f), (this.forecastError = null)),
        (e) => (this.forecastError = e),
      ),
    ]);
    this.loading = false;
  }

  override render() {
    const s = this.status;
    return html`<div class="page-head">
        <h1 tabindex="-1">Overview</h1>
        <div class="page-actions">
          ${s ? html`<span class="muted small">Generated ${utc(s.generated_at, true)}</span>` : nothing}
          <button class="btn" type="button" @click=${this.load} ?disabled=${this.loading}>
            ${this.loading ? "Refreshing…" : "Refresh"}
          </button>
        </div>
      </div>
      <error-panel .error=${this.statusError} .retry=${() => void this.load()}></error-panel>
      ${
        s?.degraded
          ? html`<div class="notice notice-warn" role="status" data-testid="degraded">
              <p class="notice-title">The service is degraded</p>
              <ul>
                ${(s.degraded_reasons ?? ["no reason given"]).map((r) => html`<li>${r}</li>`)}
              </ul>
            </div>`
          : nothing
      }
      ${!s && !this.statusError ? this.skeleton() : nothing} ${s ? this.cards(s) : nothing}
      <section class="panel" aria-labelledby="forecast-h">
        <div class="panel-head">
          <h2 id="forecast-h">Salts coming due, next 90 days</h2>
          ${this.forecast ? this.overdue(this.forecast) : nothing}
        </div>
        ${this.forecastBody()}
      </section>`;
  }

  private skeleton() {
    return html`<div class="cards" aria-busy="true" aria-label="Loading status">
      ${[0, 1, 2, 3].map(() => html`<div class="card card-skeleton"></div>`)}
    </div>`;
  }

  private cards(s: StatusResponse) {
    const enc = s.encryption;
    return html`<div class="cards" data-testid="status-cards">
      <div class="card">
        <h2 class="card-label">User salts</h2>
        <p class="card-value" data-testid="users-total">${num(s.users.total)}</p>
        <p class="card-sub ${s.users.due > 0 ? "text-warn" : ""}" data-testid="users-due">
          ${num(s.users.due)} due
        </p>
      </div>
      <div class="card">
        <h2 class="card-label">Global salts</h2>
        <p class="card-value" data-testid="globals-total">${num(s.globals.total)}</p>
        <p class="card-sub ${s.globals.due > 0 ? "text-warn" : ""}" data-testid="globals-due">
          ${num(s.globals.due)} due
        </p>
      </div>
      <div class="card">
        <h2 class="card-label">Intervals</h2>
        <p class="card-value" data-testid="intervals">
          ${s.rotation_intervals.user_days}<span class="unit">d</span> /
          ${s.rotation_intervals.global_days}<span class="unit">d</span>
        </p>
        <p class="card-sub">user / global</p>
      </div>
      <div class="card">
        <h2 class="card-label">Storage</h2>
        <p class="card-value card-value-text" data-testid="storage">${s.storage_type}</p>
        <p class="card-sub">${s.degraded ? html`<span class="text-warn">degraded</span>` : "healthy"}</p>
      </div>
      <div class="card">
        <h2 class="card-label">Pepper version</h2>
        <p class="card-value" data-testid="pepper">${s.pepper.version ?? "—"}</p>
        <p class="card-sub">${s.pepper.version === null ? "unavailable" : "in use"}</p>
      </div>
      <div class="card">
        <h2 class="card-label">Encryption key</h2>
        ${
          enc
            ? html`<p class="card-value" data-testid="key-version">
                  ${enc.current_key_version === null ? "—" : `v${enc.current_key_version}`}
                </p>
                <p class="card-sub">
                  in use: ${enc.key_versions_in_use.map((v) => `v${v}`).join(", ") || "none"}
                </p>`
            : html`<p class="card-value muted" data-testid="key-version">—</p>
                <p class="card-sub">not reported yet</p>`
        }
      </div>
    </div>`;
  }

  private overdue(f: ForecastResponse) {
    const n = f.overdue.users + f.overdue.globals;
    return html`<p class="overdue ${n > 0 ? "text-warn" : ""}" data-testid="overdue">
      <strong>${num(n)}</strong> overdue now
      <span class="muted">(${num(f.overdue.users)} user, ${num(f.overdue.globals)} global)</span>
    </p>`;
  }

  private forecastBody() {
    const e = this.forecastError as ApiError | null;
    if (e?.notAvailable) return notAvailable("The due-date forecast (salts-forecast)");
    if (e) return html`<error-panel .error=${e} .retry=${() => void this.load()}></error-panel>`;
    if (!this.forecast) return html`<div class="chart-skeleton" aria-busy="true">Loading the forecast…</div>`;
    return html`<forecast-chart .forecast=${this.forecast}></forecast-chart>
      <p class="muted small">
        Generated ${utc(this.forecast.generated_at, true)} (${relative(this.forecast.generated_at)}).
      </p>`;
  }
}
customElements.define("overview-page", OverviewPage);
