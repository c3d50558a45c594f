import { html, nothing } from "lit";
import type { ApiError } from "../api";
import { canMutate, type ConsoleContext } from "../context";
import type { RoleHolder, RoleName, RolesResponse, SetRoleResponse } from "../types";
import { LightElement } from "../ui/base";
import { notAvailable } from "../ui/error-panel";
import { num, utc } from "../ui/format";

type Filter = "" | RoleName;

/** Who holds a role; admins grant and revoke (every change audited; the server refuses self-demotion). */
export class AccessPage extends LightElement {
  static override properties = {
    ctx: { attribute: false },
    page: { state: true },
    cursors: { state: true },
    filter: { state: true },
    error: { state: true },
    changeError: { state: true },
    changed: { state: true },
    busy: { state: true },
    scanned: { state: true },
  };
  ctx!: ConsoleContext;
  page: RolesResponse | null = null;
  /** Cursors of the pages before this one (for Previous). */
  cursors: (string | undefined)[] = [];
  filter: Filter = "";
  error: unknown = null;
  changeError: unknown = null;
  changed: (SetRoleResponse & { verb: string; role: RoleName }) | null = null;
  busy = false;
  /** A walk over every Firebase Auth account: holders found, accounts pages read, done. */
  scanned: { holders: RoleHolder[]; pages: number; done: boolean } | null = null;

  override connectedCallback() {
    super.connectedCallback();
    void this.load(undefined);
  }

  private async load(cursor: string | undefined) {
    try {
      this.page = await this.ctx.api.call("roles", {
        limit: 50,
        ...(this.filter ? { role: this.filter } : {}),
        ...(cursor ? { cursor } : {}),
      });
      this.error = null;
    } catch (e) {
      this.error = e;
    }
  }

  private next() {
    if (!this.page?.next_cursor) return;
    this.cursors = [...this.cursors, this.currentCursor];
    this.currentCursor = this.page.next_cursor;
    void this.load(this.currentCursor);
  }

  private previous() {
    const cursors = [...this.cursors];
    this.currentCursor = cursors.pop();
    this.cursors = cursors;
    void this.load(this.currentCursor);
  }

  private currentCursor: string | undefined = undefined;

  private onFilter(e: Event) {
    this.filter = (e.target as HTMLSelectElement).value as Filter;
    this.cursors = [];
    this.currentCursor = undefined;
    this.scanned = null;
    void this.load(undefined);
  }

  /** Walks Firebase Auth itself, a page of accounts per call: finds roles however they were set. */
  private async scan() {
    this.busy = true;
    this.error = null;
    const found: RoleHolder[] = [];
    let cursor: string | undefined;
    let pages = 0;
    try {
      do {
        const r = await this.ctx.api.call("roles", {
          scan: true,
          ...(this.filter ? { role: this.filter } : {}),
          ...(cursor ? { cursor } : {}),
        });
        found.push(...r.holders);
        pages++;
        cursor = r.next_cursor ?? undefined;
        this.scanned = { holders: [...found], pages, done: !cursor };
      } while (cursor);
      await this.load(this.currentCursor);
    } catch (e) {
      this.error = e;
    } finally {
      this.busy = false;
    }
  }

  private async change(e: SubmitEvent) {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const f = new FormData(form);
    const account = String(f.get("account") ?? "").trim();
    const role = String(f.get("role")) as RoleName;
    const grant = (e.submitter as HTMLButtonElement | null)?.value !== "revoke";
    const reason = String(f.get("reason") ?? "").trim();
    const byEmail = /^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(account);
    this.busy = true;
    this.changeError = null;
    this.changed = null;
    try {
      const r = await this.ctx.api.call("setRole", {
        ...(byEmail ? { email: account } : { uid: account }),
        role,
        grant,
        reason,
      });
      this.changed = { ...r, verb: grant ? "granted" : "revoked", role };
      form.reset();
      await this.load(this.currentCursor);
    } catch (err) {
      this.changeError = err;
    } finally {
      this.busy = false;
    }
  }

  override render() {
    const err = this.error as ApiError | null;
    return html`<div class="page-head"><h1 tabindex="-1">Access</h1></div>
      ${
        err?.notAvailable
          ? notAvailable("Access management (salts-roles)")
          : html`<error-panel .error=${this.error}></error-panel>`
      }
      ${canMutate(this.ctx) ? this.changeForm() : html`<p class="muted small" data-testid="read-only">You can see who holds a role; only admins grant or revoke roles.</p>`}
      <section class="panel" aria-labelledby="holders-h">
        <div class="panel-head">
          <h2 id="holders-h">Role holders</h2>
          <div class="button-row">
            <label class="sr-only" for="role-filter">Show holders of</label>
            <select id="role-filter" @change=${this.onFilter} .value=${this.filter}>
              <option value="">Every role</option>
              <option value="admin">Admins</option>
              <option value="auditor">Auditors</option>
            </select>
            <button
              class="btn btn-sm"
              type="button"
              ?disabled=${this.busy}
              @click=${this.scan}
              data-testid="scan"
            >
              ${this.busy && this.scanned && !this.scanned.done ? "Scanning…" : "Scan Firebase Auth"}
            </button>
          </div>
        </div>
        ${this.page ? this.holders(this.page) : html`<p class="muted" aria-busy="true">Loading…</p>`}
        ${this.scanned ? this.scanResult() : nothing}
      </section>`;
  }

  private changeForm() {
    const c = this.changed;
    return html`<section class="panel" aria-labelledby="change-h">
      <h2 id="change-h">Grant or revoke a role</h2>
      <p class="muted small">
        Sets or clears the <code>admin</code> or <code>auditor</code> claim; the account's other claims stay.
        It takes effect on the holder's next call, and is recorded in the audit trail. You cannot remove your
        own admin role.
      </p>
      <form class="inline-form" @submit=${this.change} data-testid="role-form">
        <div class="field grow">
          <label for="account">Account (email or uid)</label>
          <input id="account" name="account" required autocomplete="off" spellcheck="false" maxlength="320" />
        </div>
        <div class="field">
          <label for="role">Role</label>
          <select id="role" name="role">
            <option value="auditor">auditor</option>
            <option value="admin">admin</option>
          </select>
        </div>
        <div class="field grow">
          <label for="role-reason">Reason</label>
          <input id="role-reason" name="reason" required maxlength="500" autocomplete="off" />
        </div>
        <button class="btn btn-primary" type="submit" value="grant" ?disabled=${this.busy}>Grant</button>
        <button class="btn btn-danger" type="submit" value="revoke" ?disabled=${this.busy}>Revoke</button>
      </form>
      <error-panel .error=${this.changeError}></error-panel>
      ${
        c
          ? html`<div class="notice notice-ok" role="status" data-testid="role-changed">
              <p>
                ${c.role} ${c.verb} for <span class="mono id">${c.uid}</span>; roles now:
                <strong>${c.roles.join(", ") || "none"}</strong>.
              </p>
              <p class="notice-meta">Correlation id <code>${c.correlation_id}</code></p>
            </div>`
          : nothing
      }
    </section>`;
  }

  private table(holders: RoleHolder[], label: string, testid: string) {
    return html`<div class="table-wrap" tabindex="0" role="region" aria-label=${label}>
      <table class="table" data-testid=${testid}>
        <thead>
          <tr>
            <th scope="col">Uid</th>
            <th scope="col">Email</th>
            <th scope="col">Roles</th>
            <th scope="col">Account</th>
          </tr>
        </thead>
        <tbody>
          ${holders.map(
            (h) =>
              html`<tr>
                <td class="mono id">
                  ${h.uid}${h.uid === this.ctx.uid ? html` <span class="muted">(you)</span>` : nothing}
                </td>
                <td class="id">${h.email ?? html`<span class="muted">—</span>`}</td>
                <td>
                  ${h.roles.map(
                    (r) =>
                      html`<span class="badge ${r === "admin" ? "badge-admin" : "badge-neutral"}"
                        >${r}</span
                      > `,
                  )}
                </td>
                <td>${h.disabled ? html`<span class="badge badge-warn">disabled</span>` : "active"}</td>
              </tr>`,
          )}
        </tbody>
      </table>
    </div>`;
  }

  private holders(p: RolesResponse) {
    const body =
      p.holders.length === 0
        ? html`<div class="empty">
            <p class="empty-title">No holders on this page</p>
            <p>Roles granted outside this service appear after a scan of Firebase Auth.</p>
          </div>`
        : this.table(p.holders, "Role holders", "holders-table");
    return html`${body}
      <div class="pager">
        <button
          class="btn btn-sm"
          type="button"
          ?disabled=${this.cursors.length === 0}
          @click=${this.previous}
        >
          Previous
        </button>
        <button class="btn btn-sm" type="button" ?disabled=${!p.next_cursor} @click=${this.next}>Next</button>
      </div>
      <p class="muted small" data-testid="reconciled">
        Listed from the role index and checked against Firebase Auth just now. Last full pass over every
        account: ${p.reconciled_at ? utc(p.reconciled_at) : "never"}.
      </p>`;
  }

  private scanResult() {
    const s = this.scanned!;
    return html`<div class="stack" data-testid="scan-result">
      <h3>Scan of Firebase Auth</h3>
      <p role="status">
        ${s.done ? "Every account read" : "Reading accounts"} (${num(s.pages)}
        page${s.pages === 1 ? "" : "s"}): ${num(s.holders.length)} holder${s.holders.length === 1 ? "" : "s"}
        found.
      </p>
      ${s.holders.length ? this.table(s.holders, "Role holders found by the scan", "scan-table") : nothing}
    </div>`;
  }
}
customElements.define("access-page", AccessPage);
