import { html, nothing } from "lit";
import type { ApiError } from "../api";
import { canMutate, type ConsoleContext } from "../context";
import type { ScopeMetadata, ScopesResponse } from "../scopeTypes";
import { LightElement } from "../ui/base";
import { notAvailable } from "../ui/error-panel";
import { plural, relative, utc } from "../ui/format";

const SCOPE_ID = "[a-z0-9_\\-]{1,40}";

/** One consumer per line (or separated by commas or blanks): service-account emails and Firebase uids. */
const consumersOf = (text: string): string[] => [...new Set(text.split(/[\s,]+/).filter(Boolean))];

/**
 * Scopes (pairwise pseudonyms): every audience with its version, interval and consumers. Admins create
 * scopes, edit their consumers and interval, and rotate them; auditors read.
 */
export class ScopesPage extends LightElement {
  static override properties = {
    ctx: { attribute: false },
    list: { state: true },
    error: { state: true },
    actionError: { state: true },
    actionRetry: { state: true },
    notice: { state: true },
    busy: { state: true },
    editing: { state: true },
    rotating: { state: true },
  };
  ctx!: ConsoleContext;
  list: ScopesResponse | null = null;
  error: unknown = null;
  actionError: unknown = null;
  actionRetry: (() => void) | null = null;
  notice: string | null = null;
  busy = false;
  editing: ScopeMetadata | null = null;
  rotating: ScopeMetadata | null = null;

  override connectedCallback() {
    super.connectedCallback();
    void this.load();
  }

  private async load(more = false) {
    const cursor = more ? this.list?.next_cursor : null;
    try {
      const page = await this.ctx.api.call("scopes", { limit: 100, ...(cursor ? { cursor } : {}) });
      this.list = cursor && this.list ? { ...page, scopes: [...this.list.scopes, ...page.scopes] } : page;
      this.error = null;
    } catch (e) {
      this.error = e;
    }
  }

  /** Runs one change; on success closes its dialog, says what happened and reloads the list. */
  private async act(run: () => Promise<string>, form: HTMLFormElement, dialog?: string) {
    this.busy = true;
    this.actionError = null;
    this.actionRetry = null;
    this.notice = null;
    try {
      this.notice = await run();
      form.reset();
      if (dialog) this.querySelector<HTMLDialogElement>(dialog)?.close();
      await this.load();
    } catch (e) {
      this.actionError = e;
      this.actionRetry = (e as ApiError).retry ? () => void this.act(run, form, dialog) : null;
    } finally {
      this.busy = false;
    }
  }

  private put(e: SubmitEvent, scopeId?: string) {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const f = new FormData(form);
    const request = {
      scope_id: scopeId ?? String(f.get("scope_id") ?? "").trim(),
      description: String(f.get("description") ?? "").trim(),
      rotation_days: Number(f.get("rotation_days")),
      consumers: consumersOf(String(f.get("consumers") ?? "")),
      reason: String(f.get("reason") ?? "").trim(),
    };
    void this.act(
      async () => {
        const r = await this.ctx.api.call("putScope", request);
        const verb = scopeId ? "Updated" : "Created";
        return `${verb} scope ${r.scope.scope_id}: version ${r.scope.version}, ${plural(r.scope.consumers.length, "consumer")}, rotates every ${plural(r.scope.rotation_days, "day")} (correlation ${r.correlation_id}).`;
      },
      form,
      scopeId ? "#edit-scope" : undefined,
    );
  }

  private rotate(e: SubmitEvent, scope: ScopeMetadata) {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const reason = String(new FormData(form).get("reason") ?? "").trim();
    void this.act(
      async () => {
        const r = await this.ctx.api.call("rotateScope", { scope_id: scope.scope_id, reason });
        return `Rotated scope ${r.scope.scope_id} to version ${r.scope.version}: every pseudonym in it changed (rotation ${r.rotation_id}, correlation ${r.correlation_id}).`;
      },
      form,
      "#rotate-scope",
    );
  }

  private open(which: "edit" | "rotate", s: ScopeMetadata) {
    if (which === "edit") this.editing = s;
    else this.rotating = s;
    void this.updateComplete.then(() =>
      this.querySelector<HTMLDialogElement>(which === "edit" ? "#edit-scope" : "#rotate-scope")?.showModal(),
    );
  }

  override render() {
    const admin = canMutate(this.ctx);
    return html`<div class="page-head"><h1 tabindex="-1">Scopes</h1></div>
      <p class="muted">
        A scope is an audience (a partner, a dataset, an app) whose pseudonyms cannot be joined with any other
        scope's. Only its consumers get them. Rotating a scope changes every pseudonym in it at once.
      </p>
      ${this.notice ? html`<div class="notice notice-ok" role="status" data-testid="notice"><p>${this.notice}</p></div>` : nothing}
      <error-panel .error=${this.actionError} .retry=${this.actionRetry}></error-panel>
      <section class="panel" aria-labelledby="scopes-h">
        <div class="panel-head">
          <h2 id="scopes-h">All scopes</h2>
          <button class="btn btn-sm" type="button" @click=${() => void this.load()}>Refresh</button>
        </div>
        ${this.table(admin)}
      </section>
      ${admin ? this.createForm() : html`<p class="muted small" data-testid="read-only">You can read scopes; changing them needs the admin role.</p>`}
      ${admin ? this.dialogs() : nothing}`;
  }

  private table(admin: boolean) {
    const err = this.error as ApiError | null;
    if (err?.notAvailable) return notAvailable("Scopes (salts-scopes)");
    if (err) return html`<error-panel .error=${err} .retry=${() => void this.load()}></error-panel>`;
    if (!this.list) return html`<p class="muted" aria-busy="true">Loading scopes…</p>`;
    if (this.list.scopes.length === 0)
      return html`<div class="empty">
        <p class="empty-title">No scopes yet</p>
        <p>Pseudonyms are unscoped until an admin creates one.</p>
      </div>`;
    return html`<div class="table-wrap" tabindex="0" role="region" aria-label="Scopes">
        <table class="table" data-testid="scopes-table">
          <thead>
            <tr>
              <th scope="col">Scope</th>
              <th scope="col" class="num">Version</th>
              <th scope="col">Rotates every</th>
              <th scope="col">Next rotation (UTC)</th>
              <th scope="col">Consumers</th>
              <th scope="col">Description</th>
              ${admin ? html`<th scope="col"><span class="sr-only">Actions</span></th>` : nothing}
            </tr>
          </thead>
          <tbody>
            ${this.list.scopes.map(
              (s) =>
                html`<tr data-scope=${s.scope_id}>
                  <td class="mono id">${s.scope_id}</td>
                  <td class="num" data-testid="scope-version">${s.version}</td>
                  <td>${plural(s.rotation_days, "day")}</td>
                  <td>
                    ${utc(s.next_rotation)}
                    ${s.due ? html`<span class="badge badge-warn">due</span>` : html`<span class="muted small">${relative(s.next_rotation)}</span>`}
                  </td>
                  <td>
                    ${
                      s.consumers.length
                        ? html`<ul class="consumers mono small" data-testid="scope-consumers">
                            ${s.consumers.map((c) => html`<li>${c}</li>`)}
                          </ul>`
                        : html`<span class="muted">none</span>`
                    }
                  </td>
                  <td>${s.description || html`<span class="muted">—</span>`}</td>
                  ${
                    admin
                      ? html`<td class="row-actions scope-actions">
                          <button
                            class="btn btn-sm"
                            type="button"
                            @click=${() => this.open("edit", s)}
                            aria-label=${`Edit scope ${s.scope_id}`}
                          >
                            Edit
                          </button>
                          <button
                            class="btn btn-sm"
                            type="button"
                            @click=${() => this.open("rotate", s)}
                            aria-label=${`Rotate scope ${s.scope_id}`}
                          >
                            Rotate
                          </button>
                        </td>`
                      : nothing
                  }
                </tr>`,
            )}
          </tbody>
        </table>
      </div>
      ${this.list.next_cursor ? html`<button class="btn btn-sm" type="button" @click=${() => void this.load(true)}>Show more scopes</button>` : nothing}`;
  }

  private fields(prefix: string, s: ScopeMetadata | null) {
    return html`<div class="field">
        <label for="${prefix}-description">Description</label>
        <input id="${prefix}-description" name="description" maxlength="500" value=${s?.description ?? ""} />
      </div>
      <div class="field">
        <label for="${prefix}-days">Rotate every (days)</label>
        <input
          id="${prefix}-days"
          name="rotation_days"
          type="number"
          min="1"
          max="3650"
          required
          value=${String(s?.rotation_days ?? 30)}
        />
      </div>
      <div class="field">
        <label for="${prefix}-consumers"
          >Consumers, one per line (service-account emails, Firebase uids)</label
        >
        <textarea
          id="${prefix}-consumers"
          name="consumers"
          rows="3"
          class="mono"
          spellcheck="false"
          .value=${(s?.consumers ?? []).join("\n")}
        ></textarea>
      </div>
      <div class="field">
        <label for="${prefix}-reason">Reason</label>
        <input id="${prefix}-reason" name="reason" required maxlength="500" />
      </div>`;
  }

  private createForm() {
    return html`<section class="panel" aria-labelledby="create-h">
      <h2 id="create-h">Create a scope</h2>
      <form class="stack" @submit=${(e: SubmitEvent) => this.put(e)} data-testid="create-scope">
        <div class="field">
          <label for="new-id">Scope id (1 to 40 of a-z, 0-9, _ and -)</label>
          <input
            id="new-id"
            name="scope_id"
            required
            pattern=${SCOPE_ID}
            maxlength="40"
            class="mono"
            autocomplete="off"
            spellcheck="false"
          />
        </div>
        ${this.fields("new", null)}
        <div><button class="btn btn-primary" type="submit" ?disabled=${this.busy}>Create scope</button></div>
      </form>
    </section>`;
  }

  private dialogs() {
    const e = this.editing;
    const r = this.rotating;
    return html`<dialog id="edit-scope" aria-labelledby="es-h" @close=${() => (this.editing = null)}>
        ${
          e
            ? html`<form class="stack" @submit=${(ev: SubmitEvent) => this.put(ev, e.scope_id)}>
                <h2 id="es-h">Edit scope <span class="mono">${e.scope_id}</span></h2>
                <p class="small">
                  Its version and secret stay: pseudonyms do not change. Consumers are replaced by the list
                  below.
                </p>
                ${this.fields("edit", e)}
                <div class="dialog-actions">
                  <button
                    class="btn"
                    type="button"
                    @click=${() => this.querySelector<HTMLDialogElement>("#edit-scope")?.close()}
                  >
                    Cancel
                  </button>
                  <button class="btn btn-primary" type="submit" ?disabled=${this.busy}>Save</button>
                </div>
              </form>`
            : nothing
        }
      </dialog>
      <dialog id="rotate-scope" aria-labelledby="rs-h" @close=${() => (this.rotating = null)}>
        ${
          r
            ? html`<form class="stack" @submit=${(ev: SubmitEvent) => this.rotate(ev, r)}>
                <h2 id="rs-h">Rotate scope <span class="mono">${r.scope_id}</span></h2>
                <p class="small">
                  Issues version ${r.version + 1}: every subject's pseudonyms in this scope change at once;
                  other scopes are untouched.
                </p>
                <div class="field">
                  <label for="rs-reason">Reason</label>
                  <input id="rs-reason" name="reason" required maxlength="500" />
                </div>
                <div class="dialog-actions">
                  <button
                    class="btn"
                    type="button"
                    @click=${() => this.querySelector<HTMLDialogElement>("#rotate-scope")?.close()}
                  >
                    Cancel
                  </button>
                  <button class="btn btn-primary" type="submit" ?disabled=${this.busy}>Rotate</button>
                </div>
              </form>`
            : nothing
        }
      </dialog>`;
  }
}
customElements.define("scopes-page", ScopesPage);
