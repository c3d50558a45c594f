import { html, nothing } from "lit";
import type { ApiError } from "../api";
import { canMutate, type ConsoleContext } from "../context";
import type {
  AuditUserResponse,
  EraseResponse,
  ListSaltsResponse,
  RotateResponse,
  SaltMetadata,
} from "../types";
import { LightElement } from "../ui/base";
import { notAvailable } from "../ui/error-panel";
import { relative, utc } from "../ui/format";
import { auditTable, saltFacts } from "../ui/tables";
import "./subjectAccess";

const USER_ID_MAX = 128;

export class SaltsPage extends LightElement {
  static override properties = {
    ctx: { attribute: false },
    userId: { state: true },
    lookup: { state: true },
    lookupError: { state: true },
    busy: { state: true },
    actionError: { state: true },
    actionRetry: { state: true },
    notice: { state: true },
    eraseConfirm: { state: true },
    globals: { state: true },
    globalsError: { state: true },
    dialogSalt: { state: true },
  };
  ctx!: ConsoleContext;
  userId = "";
  lookup: AuditUserResponse | null = null;
  lookupError: unknown = null;
  busy = false;
  actionError: unknown = null;
  actionRetry: (() => void) | null = null;
  notice: string | null = null;
  eraseConfirm = "";
  globals: ListSaltsResponse | null = null;
  globalsError: unknown = null;
  dialogSalt: SaltMetadata | null = null;

  override connectedCallback() {
    super.connectedCallback();
    const u = new URLSearchParams(location.search).get("user");
    if (u) void this.find(u);
    void this.loadGlobals();
  }

  /** The first page, or (with `more`) the next page appended to the rows already shown. */
  private async loadGlobals(more = false) {
    const cursor = more ? this.globals?.next_cursor : null;
    try {
      const page = await this.ctx.api.call("listSalts", {
        kind: "global",
        limit: 100,
        ...(cursor ? { cursor } : {}),
      });
      this.globals =
        cursor && this.globals ? { ...page, salts: [...this.globals.salts, ...page.salts] } : page;
      this.globalsError = null;
    } catch (e) {
      this.globalsError = e;
    }
  }

  private onLookup(e: SubmitEvent) {
    e.preventDefault();
    const id = String(new FormData(e.target as HTMLFormElement).get("user_id") ?? "");
    if (id) void this.find(id);
  }

  private async find(id: string) {
    this.userId = id;
    this.notice = null;
    this.actionError = null;
    this.eraseConfirm = "";
    history.replaceState(null, "", `/salts?user=${encodeURIComponent(id)}`);
    this.busy = true;
    try {
      this.lookup = await this.ctx.api.call("audit", { user_id: id });
      this.lookupError = null;
    } catch (e) {
      this.lookup = null;
      this.lookupError = e;
    } finally {
      this.busy = false;
    }
  }

  /** Runs one mutating action; a retry (for unknown outcomes) re-sends the same request. */
  private async act<R>(run: () => Promise<R>, done: (r: R) => void | Promise<void>) {
    this.busy = true;
    this.actionError = null;
    this.actionRetry = null;
    this.notice = null;
    try {
      await done(await run());
    } catch (e) {
      this.actionError = e;
      const retry = (e as ApiError).retry;
      this.actionRetry = retry ? () => void this.act(retry as () => Promise<R>, done) : null;
    } finally {
      this.busy = false;
    }
  }

  private rotateUser(e: SubmitEvent, force: boolean) {
    e.preventDefault();
    const reason = String(new FormData(e.target as HTMLFormElement).get("reason") ?? "").trim();
    const id = this.userId;
    void this.act(
      () => this.ctx.api.call("rotateUser", { user_id: id, force, reason }),
      async (r: RotateResponse) => {
        (e.target as HTMLFormElement).reset();
        await this.find(id);
        this.notice = `${r.created ? "Created" : "Rotated"} the salt of ${id}: now version ${r.salt.version} (rotation ${r.rotation_id}, correlation ${r.correlation_id}).`;
      },
    );
  }

  private erase(e: SubmitEvent) {
    e.preventDefault();
    const reason = String(new FormData(e.target as HTMLFormElement).get("reason") ?? "").trim();
    const id = this.userId;
    void this.act(
      () => this.ctx.api.call("erase", { user_id: id, reason }),
      (r: EraseResponse) => {
        this.lookup = null;
        this.lookupError = null;
        this.eraseConfirm = "";
        this.notice = `Erased the salts of ${id}: ${r.versions_destroyed} version(s) destroyed at ${utc(r.receipt.erased_at, true)}. Receipt: user hash ${r.receipt.user_id_hash}, rotation ${r.receipt.rotation_id}, correlation ${r.correlation_id}.`;
      },
    );
  }

  private openRotateGlobal(s: SaltMetadata) {
    this.dialogSalt = s;
    void this.updateComplete.then(() => this.querySelector<HTMLDialogElement>("#rotate-global")?.showModal());
  }

  private rotateGlobal(e: SubmitEvent, eventType: string, force: boolean) {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const reason = String(new FormData(form).get("reason") ?? "").trim();
    void this.act(
      () => this.ctx.api.call("rotateGlobal", { event_type: eventType, force, reason }),
      async (r: RotateResponse) => {
        form.reset();
        this.querySelector<HTMLDialogElement>("#rotate-global")?.close();
        this.notice = `${r.created ? "Created" : "Rotated"} the global salt ${eventType}: now version ${r.salt.version} (correlation ${r.correlation_id}).`;
        await this.loadGlobals();
      },
    );
  }

  override render() {
    return html`<div class="page-head"><h1 tabindex="-1">Salts</h1></div>
      ${this.notice ? html`<div class="notice notice-ok" role="status" data-testid="notice"><p>${this.notice}</p></div>` : nothing}
      <error-panel .error=${this.actionError} .retry=${this.actionRetry}></error-panel>
      <section class="panel" aria-labelledby="lookup-h">
        <h2 id="lookup-h">Look up a user</h2>
        <form class="inline-form" @submit=${this.onLookup} role="search">
          <div class="field grow">
            <label for="user-id">User id</label>
            <input
              id="user-id"
              name="user_id"
              .value=${this.userId}
              maxlength=${USER_ID_MAX}
              required
              autocomplete="off"
              spellcheck="false"
              class="mono"
              placeholder="Firebase Auth uid"
            />
          </div>
          <button class="btn btn-primary" type="submit" ?disabled=${this.busy}>Look up</button>
        </form>
        ${this.lookupBody()}
      </section>
      ${
        this.userId && canMutate(this.ctx)
          ? html`<subject-access .ctx=${this.ctx} .userId=${this.userId}></subject-access>`
          : nothing
      }
      ${this.globalsSection()}`;
  }

  private lookupBody() {
    const err = this.lookupError as ApiError | null;
    if (err?.code === "not-found") {
      return html`<div class="empty" data-testid="no-salt">
          <p class="empty-title">No salt for <span class="mono id">${this.userId}</span></p>
          <p>This user has never been pseudonymized, or their salts were erased.</p>
          <p class="muted small">
            Correlation id <code data-testid="correlation-id">${err.correlationId}</code>
          </p>
        </div>
        ${
          canMutate(this.ctx)
            ? html`<form class="inline-form" @submit=${(e: SubmitEvent) => this.rotateUser(e, true)}>
                <div class="field grow">
                  <label for="create-reason">Reason</label>
                  <input id="create-reason" name="reason" required maxlength="500" />
                </div>
                <button class="btn" type="submit" ?disabled=${this.busy}>Create a salt</button>
              </form>`
            : nothing
        }`;
    }
    if (err)
      return html`<error-panel .error=${err} .retry=${() => void this.find(this.userId)}></error-panel>`;
    const l = this.lookup;
    if (!l)
      return html`<p class="muted">
        Enter a user id to see its salt, version history and recent audit entries.
      </p>`;
    const confirmOk = this.eraseConfirm === l.salt.id;
    return html`<div class="split">
        <div>
          <h3>Current salt</h3>
          ${saltFacts(l.salt)}
        </div>
        ${
          canMutate(this.ctx)
            ? html`<div class="actions-col">
                <form
                  class="stack"
                  @submit=${(e: SubmitEvent) => this.rotateUser(e, false)}
                  data-testid="rotate-form"
                >
                  <h3>Rotate</h3>
                  <p class="muted small">
                    Issues version ${l.salt.version + 1}. Old pseudonyms stop linking to new ones.
                  </p>
                  <div class="field">
                    <label for="rotate-reason">Reason</label>
                    <input
                      id="rotate-reason"
                      name="reason"
                      required
                      maxlength="500"
                      placeholder="e.g. ticket OPS-123"
                    />
                  </div>
                  <button class="btn btn-primary" type="submit" ?disabled=${this.busy}>Rotate salt</button>
                </form>
                <form class="stack danger-zone" @submit=${this.erase} data-testid="erase-form">
                  <h3>Erase (right to erasure)</h3>
                  <p class="small">
                    Destroys every stored version of this user's salt. Their existing pseudonyms can never be
                    reproduced again. This cannot be undone.
                  </p>
                  <div class="field">
                    <label for="erase-reason">Reason</label>
                    <input
                      id="erase-reason"
                      name="reason"
                      required
                      maxlength="500"
                      placeholder="e.g. GDPR request 123"
                    />
                  </div>
                  <div class="field">
                    <label for="erase-confirm"
                      >Type the user id <span class="mono id">${l.salt.id}</span> to confirm</label
                    >
                    <input
                      id="erase-confirm"
                      name="confirm"
                      autocomplete="off"
                      spellcheck="false"
                      class="mono"
                      .value=${this.eraseConfirm}
                      @input=${(e: InputEvent) => (this.eraseConfirm = (e.target as HTMLInputElement).value)}
                    />
                  </div>
                  <button class="btn btn-danger" type="submit" ?disabled=${this.busy || !confirmOk}>
                    Erase salts
                  </button>
                </form>
              </div>`
            : nothing
        }
      </div>
      <h3>Version history</h3>
      ${
        l.history.length === 0
          ? html`<p class="muted">No retired versions kept (first version, or history past retention).</p>`
          : html`<div class="table-wrap" tabindex="0" role="region" aria-label="Version history">
              <table class="table" data-testid="history-table">
                <thead>
                  <tr>
                    <th scope="col" class="num">Version</th>
                    <th scope="col">Created (UTC)</th>
                    <th scope="col">Retired (UTC)</th>
                    <th scope="col">Salt hash prefix</th>
                  </tr>
                </thead>
                <tbody>
                  ${l.history.map(
                    (h) =>
                      html`<tr>
                        <td class="num">${h.version}</td>
                        <td>${utc(h.created_at, true)}</td>
                        <td>${utc(h.retired_at, true)}</td>
                        <td class="mono">${h.salt_hash_prefix}</td>
                      </tr>`,
                  )}
                </tbody>
              </table>
            </div>`
      }
      <h3>Recent audit entries</h3>
      ${l.audit.length === 0 ? html`<p class="muted">No audit entries.</p>` : auditTable(l.audit, "Recent audit entries of this user", "user-audit")}`;
  }

  private globalsSection() {
    const err = this.globalsError as ApiError | null;
    const admin = canMutate(this.ctx);
    let body;
    if (err?.notAvailable) body = notAvailable("Listing global salts (salts-listSalts)");
    else if (err)
      body = html`<error-panel .error=${err} .retry=${() => void this.loadGlobals()}></error-panel>`;
    else if (!this.globals) body = html`<p class="muted" aria-busy="true">Loading global salts…</p>`;
    else if (this.globals.salts.length === 0)
      body = html`<div class="empty">
        <p class="empty-title">No global salts yet</p>
        <p>They are created on the first event of each type.</p>
      </div>`;
    else
      body = html`<div class="table-wrap" tabindex="0" role="region" aria-label="Global salts">
          <table class="table" data-testid="globals-table">
            <thead>
              <tr>
                <th scope="col">Event type</th>
                <th scope="col" class="num">Version</th>
                <th scope="col">Last rotated (UTC)</th>
                <th scope="col">Next rotation (UTC)</th>
                ${admin ? html`<th scope="col"><span class="sr-only">Actions</span></th>` : nothing}
              </tr>
            </thead>
            <tbody>
              ${this.globals.salts.map(
                (s) =>
                  html`<tr>
                    <td class="mono id">${s.id}</td>
                    <td class="num" data-testid="global-version">${s.version}</td>
                    <td>${utc(s.last_rotated)}</td>
                    <td>
                      ${utc(s.next_rotation)}
                      ${s.due ? html`<span class="badge badge-warn">due</span>` : html`<span class="muted small">${relative(s.next_rotation)}</span>`}
                    </td>
                    ${
                      admin
                        ? html`<td class="row-actions">
                            <button
                              class="btn btn-sm"
                              type="button"
                              @click=${() => this.openRotateGlobal(s)}
                              aria-label=${`Rotate global salt ${s.id}`}
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
        ${
          this.globals.next_cursor
            ? html`<button class="btn btn-sm" type="button" @click=${() => void this.loadGlobals(true)}>
                Show more global salts
              </button>`
            : nothing
        }`;
    return html`<section class="panel" aria-labelledby="globals-h">
      <div class="panel-head">
        <h2 id="globals-h">Global salts</h2>
        <button class="btn btn-sm" type="button" @click=${() => void this.loadGlobals()}>Refresh</button>
      </div>
      ${body}
      ${
        admin && err?.notAvailable
          ? html`<form
              class="inline-form"
              @submit=${(e: SubmitEvent) => {
                const f = new FormData(e.target as HTMLFormElement);
                this.rotateGlobal(e, String(f.get("event_type") ?? ""), false);
              }}
            >
              <div class="field">
                <label for="g-type">Event type</label
                ><input id="g-type" name="event_type" required class="mono" />
              </div>
              <div class="field grow">
                <label for="g-reason">Reason</label
                ><input id="g-reason" name="reason" required maxlength="500" />
              </div>
              <button class="btn" type="submit" ?disabled=${this.busy}>Rotate global salt</button>
            </form>`
          : nothing
      }
      <dialog id="rotate-global" aria-labelledby="rg-h" @close=${() => (this.dialogSalt = null)}>
        ${
          this.dialogSalt
            ? html`<form
                class="stack"
                @submit=${(e: SubmitEvent) => this.rotateGlobal(e, this.dialogSalt!.id, false)}
              >
                <h2 id="rg-h">Rotate global salt <span class="mono">${this.dialogSalt.id}</span></h2>
                <p class="small">
                  Issues version ${this.dialogSalt.version + 1} for every event of this type.
                </p>
                <div class="field">
                  <label for="rg-reason">Reason</label
                  ><input id="rg-reason" name="reason" required maxlength="500" />
                </div>
                <div class="dialog-actions">
                  <button
                    class="btn"
                    type="button"
                    @click=${() => this.querySelector<HTMLDialogElement>("#rotate-global")?.close()}
                  >
                    Cancel
                  </button>
                  <button class="btn btn-primary" type="submit" ?disabled=${this.busy}>Rotate</button>
                </div>
              </form>`
            : nothing
        }
      </dialog>
    </section>`;
  }
}
customElements.define("salts-page", SaltsPage);
