import { html, nothing } from "lit";
import type { ApiError } from "../api";
import { canMutate, type ConsoleContext } from "../context";
import type { ReloadResponse, StatusResponse } from "../types";
import { LightElement } from "../ui/base";
import { num, utc } from "../ui/format";

export class SettingsPage extends LightElement {
  static override properties = {
    ctx: { attribute: false },
    status: { state: true },
    error: { state: true },
    reloaded: { state: true },
    busy: { state: true },
    retry: { state: true },
  };
  ctx!: ConsoleContext;
  status: StatusResponse | null = null;
  error: unknown = null;
  reloaded: ReloadResponse | null = null;
  busy = false;
  retry: (() => void) | null = null;

  override connectedCallback() {
    super.connectedCallback();
    void this.load();
  }

  private async load() {
    try {
      this.status = await this.ctx.api.call("status", {});
      this.error = null;
    } catch (e) {
      this.error = e;
    }
  }

  private async reload() {
    this.busy = true;
    this.error = null;
    this.retry = null;
    try {
      this.reloaded = await this.ctx.api.call("reloadConfig", {});
      await this.load();
    } catch (e) {
      this.error = e;
      this.retry = (e as ApiError).retry ? () => void this.reload() : null;
    } finally {
      this.busy = false;
    }
  }

  override render() {
    const s = this.status;
    const i = this.reloaded?.rotation_intervals ?? s?.rotation_intervals;
    const c = this.ctx.config;
    return html`<div class="page-head"><h1 tabindex="-1">Settings</h1></div>
      <error-panel .error=${this.error} .retry=${this.retry}></error-panel>
      <section class="panel" aria-labelledby="intervals-h">
        <div class="panel-head">
          <h2 id="intervals-h">Rotation intervals in force</h2>
          ${
            canMutate(this.ctx)
              ? html`<button
                  class="btn"
                  type="button"
                  @click=${this.reload}
                  ?disabled=${this.busy}
                  data-testid="reload"
                >
                  ${this.busy ? "Reloading…" : "Reload config"}
                </button>`
              : nothing
          }
        </div>
        ${
          i
            ? html`<dl class="facts">
                <div>
                  <dt>User salts</dt>
                  <dd data-testid="user-days">every ${i.user_days} days</dd>
                </div>
                <div>
                  <dt>Global salts</dt>
                  <dd data-testid="global-days">every ${i.global_days} days</dd>
                </div>
              </dl>`
            : html`<p class="muted" aria-busy="true">Loading…</p>`
        }
        ${
          this.reloaded
            ? html`<div class="notice notice-ok" role="status" data-testid="reloaded">
                <p>
                  Configuration reloaded at ${utc(this.reloaded.reloaded_at, true)}; every instance applies it
                  within seconds. Correlation id <code>${this.reloaded.correlation_id}</code>.
                </p>
                ${
                  this.reloaded.reschedule
                    ? html`<p data-testid="reschedule">
                        Due dates of ${num(this.reloaded.reschedule.total)} salts are brought in step with
                        these intervals by job
                        <a
                          class="mono"
                          href=${`/jobs?job=${encodeURIComponent(this.reloaded.reschedule.job_id)}`}
                          >${this.reloaded.reschedule.job_id}</a
                        >.
                      </p>`
                    : nothing
                }
              </div>`
            : nothing
        }
        <p class="muted small">
          Intervals change only explicitly: stage new values with the operator CLI (<code
            >salts config stage --user-days 45</code
          >), then reload. A reload with nothing staged returns to the deployed parameters.
        </p>
      </section>
      <section class="panel" aria-labelledby="conn-h">
        <h2 id="conn-h">This console</h2>
        <dl class="facts">
          <div>
            <dt>Signed in as</dt>
            <dd>${this.ctx.email}</dd>
          </div>
          <div>
            <dt>Roles (from the ID token)</dt>
            <dd>
              ${[this.ctx.roles.admin && "admin", this.ctx.roles.auditor && "auditor"].filter(Boolean).join(", ") || "none"}
            </dd>
          </div>
          <div>
            <dt>Firebase project</dt>
            <dd class="mono">${c.firebase.projectId}</dd>
          </div>
          <div>
            <dt>Functions region</dt>
            <dd class="mono">${c.region}</dd>
          </div>
          <div>
            <dt>Backend</dt>
            <dd>
              ${c.emulators ? html`local emulators <span class="mono">(${c.emulators.auth.replace("http://", "")}, ${c.emulators.functions.host}:${c.emulators.functions.port})</span>` : "production"}
            </dd>
          </div>
          <div>
            <dt>Pepper version</dt>
            <dd>${s?.pepper.version ?? "—"}</dd>
          </div>
          <div>
            <dt>Storage</dt>
            <dd>${s?.storage_type ?? "—"}</dd>
          </div>
        </dl>
        <p class="muted small">
          The server decides what each role may do; the console only hides what your role cannot use.
        </p>
      </section>`;
  }
}
customElements.define("settings-page", SettingsPage);
