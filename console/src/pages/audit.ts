import { html, nothing } from "lit";
import type { ApiError, AuditLogQuery } from "../api";
import type { ConsoleContext } from "../context";
import { auditCsv } from "../csv";
import type { AuditEntry, AuditLogResponse, AuditVerifyResponse } from "../types";
import { LightElement } from "../ui/base";
import { notAvailable } from "../ui/error-panel";
import { num } from "../ui/format";
import { auditTable } from "../ui/tables";

const OPERATIONS = [
  "rotate_user",
  "rotate_global",
  "rotate_due",
  "erase",
  "reload",
  "stage",
  "audit",
  "sweep",
  "rewrap",
  "pseudonymize_test",
];
const EXPORT_CAP = 10_000;
const VERIFY_PAGES = 50;
const NEWER_FILTERS = ["result", "from", "to"];

type Filters = Omit<AuditLogQuery, "limit" | "cursor">;

/** "2026-11-25T13:00" typed in a datetime-local field, read as UTC. */
function utcInput(v: FormDataEntryValue | null): string | undefined {
  const s = String(v ?? "").trim();
  if (!s) return undefined;
  const d = new Date(`${s}${s.length === 16 ? ":00" : ""}Z`);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

export class AuditPage extends LightElement {
  static override properties = {
    ctx: { attribute: false },
    filters: { state: true },
    pageSize: { state: true },
    page: { state: true },
    error: { state: true },
    loading: { state: true },
    exporting: { state: true },
    exportNote: { state: true },
    verify: { state: true },
    verifyError: { state: true },
    verifying: { state: true },
  };
  ctx!: ConsoleContext;
  filters: Filters = {};
  pageSize = 50;
  page: AuditLogResponse | null = null;
  error: unknown = null;
  loading = false;
  exporting = false;
  exportNote: string | null = null;
  verify: (AuditVerifyResponse & { pages: number; complete: boolean }) | null = null;
  verifyError: unknown = null;
  verifying = false;
  /** Cursors of the pages before the current one (the first page has none). */
  private cursors: (string | undefined)[] = [];
  private cursor: string | undefined;

  override connectedCallback() {
    super.connectedCallback();
    void this.load(undefined);
  }

  private query(cursor: string | undefined, limit = this.pageSize): AuditLogQuery {
    const q: AuditLogQuery = { limit, ...this.filters };
    if (cursor) q.cursor = cursor;
    return q;
  }

  private async load(cursor: string | undefined) {
    this.loading = true;
    try {
      this.page = await this.ctx.api.call("auditLog", this.query(cursor));
      this.cursor = cursor;
      this.error = null;
    } catch (e) {
      this.page = null;
      this.error = e;
    } finally {
      this.loading = false;
    }
  }

  private apply(e: SubmitEvent) {
    e.preventDefault();
    const f = new FormData(e.target as HTMLFormElement);
    const filters: Filters = {};
    const target = String(f.get("target_id") ?? "").trim();
    const op = String(f.get("operation") ?? "").trim();
    const result = String(f.get("result") ?? "");
    if (target) filters.target_id = target;
    if (op) filters.operation = op;
    if (result === "success" || result === "error" || result === "denied") filters.result = result;
    const from = utcInput(f.get("from"));
    const to = utcInput(f.get("to"));
    if (from) filters.from = from;
    if (to) filters.to = to;
    this.filters = filters;
    this.pageSize = Number(f.get("page_size") ?? 50) || 50;
    this.cursors = [];
    this.exportNote = null;
    void this.load(undefined);
  }

  private reset(e: Event) {
    (e.target as HTMLElement).closest("form")?.reset();
    this.filters = {};
    this.cursors = [];
    this.exportNote = null;
    void this.load(undefined);
  }

  private next() {
    if (!this.page?.next_cursor) return;
    this.cursors = [...this.cursors, this.cursor];
    void this.load(this.page.next_cursor);
  }

  private previous() {
    const prev = this.cursors.at(-1);
    this.cursors = this.cursors.slice(0, -1);
    void this.load(prev);
  }

  /** Every entry matching the filters (not just this page), up to a cap, as a CSV download. */
  private async exportCsv() {
    this.exporting = true;
    this.exportNote = null;
    const entries: AuditEntry[] = [];
    let cursor: string | undefined;
    try {
      do {
        const page = await this.ctx.api.call("auditLog", this.query(cursor, 500));
        entries.push(...page.entries);
        cursor = page.next_cursor ?? undefined;
      } while (cursor && entries.length < EXPORT_CAP);
      const blob = new Blob([auditCsv(entries.slice(0, EXPORT_CAP))], { type: "text/csv;charset=utf-8" });
      const a = document.createElement("a");
      a.href = URL.createObjectURL(blob);
      a.download = `audit-log-${new Date().toISOString().slice(0, 19).replace(/[-:]/g, "").replace("T", "-")}Z.csv`;
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
      this.exportNote =
        `Exported ${num(Math.min(entries.length, EXPORT_CAP))} entries` +
        (cursor ? ` (the first ${num(EXPORT_CAP)}; narrow the filters to export the rest).` : ".");
    } catch (e) {
      this.error = e;
    } finally {
      this.exporting = false;
    }
  }

  private async runVerify() {
    this.verifying = true;
    this.verifyError = null;
    this.verify = null;
    const target = this.filters.target_id;
    try {
      let cursor: string | undefined;
      let pages = 0;
      let acc: AuditVerifyResponse | null = null;
      do {
        const r = await this.ctx.api.call("auditVerify", {
          limit: 1000,
          ...(target ? { target_id: target } : {}),
          ...(cursor ? { cursor } : {}),
        });
        pages++;
        acc = acc
          ? {
              ...r,
              intact: acc.intact && r.intact,
              checked_entries: acc.checked_entries + r.checked_entries,
              checked_targets: acc.checked_targets + r.checked_targets,
              breaks: [...acc.breaks, ...r.breaks],
            }
          : r;
        cursor = r.next_cursor ?? undefined;
      } while (cursor && pages < VERIFY_PAGES);
      this.verify = { ...acc!, pages, complete: !cursor };
    } catch (e) {
      this.verifyError = e;
    } finally {
      this.verifying = false;
    }
  }

  override render() {
    const f = this.filters;
    return html`<div class="page-head"><h1 tabindex="-1">Audit log</h1></div>
      <section class="panel" aria-labelledby="filters-h">
        <h2 id="filters-h" class="sr-only">Filters</h2>
        <form class="filters" @submit=${this.apply} data-testid="audit-filters">
          <div class="field">
            <label for="f-target">Target id</label>
            <input
              id="f-target"
              name="target_id"
              class="mono"
              maxlength="128"
              autocomplete="off"
              spellcheck="false"
              .value=${f.target_id ?? ""}
            />
          </div>
          <div class="field">
            <label for="f-op">Operation</label>
            <input
              id="f-op"
              name="operation"
              list="ops"
              class="mono"
              pattern="[a-z_]{1,64}"
              autocomplete="off"
              .value=${f.operation ?? ""}
            />
            <datalist id="ops">${OPERATIONS.map((o) => html`<option value=${o}></option>`)}</datalist>
          </div>
          <div class="field">
            <label for="f-result">Result</label>
            <select id="f-result" name="result">
              <option value="">Any</option>
              <option value="success" ?selected=${f.result === "success"}>Success</option>
              <option value="error" ?selected=${f.result === "error"}>Error</option>
              <option value="denied" ?selected=${f.result === "denied"}>Denied</option>
            </select>
          </div>
          <div class="field">
            <label for="f-from">From (UTC)</label>
            <input id="f-from" name="from" type="datetime-local" />
          </div>
          <div class="field">
            <label for="f-to">To (UTC)</label>
            <input id="f-to" name="to" type="datetime-local" />
          </div>
          <div class="field">
            <label for="f-size">Per page</label>
            <select id="f-size" name="page_size">
              ${[25, 50, 100, 200].map((n) => html`<option value=${n} ?selected=${n === this.pageSize}>${n}</option>`)}
            </select>
          </div>
          <div class="filter-actions">
            <button class="btn btn-primary" type="submit" ?disabled=${this.loading}>Apply filters</button>
            <button class="btn" type="button" @click=${this.reset}>Clear</button>
          </div>
        </form>
      </section>
      ${this.filterNotice()}
      <section class="panel" aria-labelledby="entries-h">
        <div class="panel-head">
          <h2 id="entries-h">Entries</h2>
          <div class="button-row">
            <button
              class="btn btn-sm"
              type="button"
              @click=${this.exportCsv}
              ?disabled=${this.exporting || !this.page}
              data-testid="export"
            >
              ${this.exporting ? "Exporting…" : "Export CSV"}
            </button>
          </div>
        </div>
        ${this.exportNote ? html`<p class="muted small" role="status" data-testid="export-note">${this.exportNote}</p>` : nothing}
        ${this.entries()}
      </section>
      ${this.integrity()}`;
  }

  private filterNotice() {
    const e = this.error as ApiError | null;
    const unsupported =
      e?.code === "invalid-argument" &&
      e.issues.length > 0 &&
      e.issues.every((i) => NEWER_FILTERS.includes(i.path) && /not a known field/.test(i.message));
    if (!unsupported)
      return html`<error-panel
        .error=${this.error}
        .retry=${() => void this.load(this.cursor)}
      ></error-panel>`;
    return html`<div class="notice notice-warn" role="alert" data-testid="filter-unsupported">
      <p class="notice-title">This server cannot filter by result or time yet</p>
      <p>Clear the result, from and to filters; filtering by target and operation works.</p>
      <p class="notice-meta">Correlation id <code data-testid="correlation-id">${e.correlationId}</code></p>
    </div>`;
  }

  private entries() {
    if (this.error) return nothing;
    if (!this.page) return html`<p class="muted" aria-busy="true">Loading entries…</p>`;
    const p = this.page;
    const pageNo = this.cursors.length + 1;
    return html`${
        p.entries.length === 0
          ? html`<div class="empty" data-testid="audit-empty">
              <p class="empty-title">No entries match</p>
              <p>Change or clear the filters.</p>
            </div>`
          : auditTable(p.entries, "Audit entries")
      }
      <nav class="pager" aria-label="Audit log pages">
        <button
          class="btn btn-sm"
          type="button"
          @click=${this.previous}
          ?disabled=${pageNo === 1 || this.loading}
        >
          Newer
        </button>
        <span class="muted small" data-testid="page-no"
          >Page ${pageNo} · ${num(p.entries.length)} entries</span
        >
        <button
          class="btn btn-sm"
          type="button"
          @click=${this.next}
          ?disabled=${!p.next_cursor || this.loading}
          data-testid="older"
        >
          Older
        </button>
      </nav>`;
  }

  private integrity() {
    const err = this.verifyError as ApiError | null;
    const v = this.verify;
    return html`<section class="panel" aria-labelledby="verify-h">
      <div class="panel-head">
        <h2 id="verify-h">Integrity check</h2>
        <button
          class="btn btn-sm"
          type="button"
          @click=${this.runVerify}
          ?disabled=${this.verifying}
          data-testid="verify"
        >
          ${this.verifying ? "Checking…" : this.filters.target_id ? "Check this target's trail" : "Check the whole trail"}
        </button>
      </div>
      <p class="muted small">Checks that no audit entry was changed, removed or reordered.</p>
      ${
        err?.notAvailable
          ? notAvailable("The integrity check (salts-auditVerify)")
          : html`<error-panel .error=${err}></error-panel>`
      }
      ${
        v
          ? html`<div
                class="notice ${v.intact ? "notice-ok" : "notice-error"}"
                role="status"
                data-testid="verify-result"
              >
                <p class="notice-title">${v.intact ? "Intact" : `${num(v.breaks.length)} break(s) found`}</p>
                <p>
                  Checked ${num(v.checked_entries)} entries over ${num(v.checked_targets)}
                  targets${v.complete ? "" : ` (first ${v.pages} pages only)`}.
                </p>
                <p class="notice-meta">Correlation id <code>${v.correlation_id}</code></p>
              </div>
              ${
                v.breaks.length > 0
                  ? html`<div class="table-wrap" tabindex="0" role="region" aria-label="Integrity breaks">
                      <table class="table">
                        <thead>
                          <tr>
                            <th scope="col">Target</th>
                            <th scope="col">Entry</th>
                            <th scope="col">Problem</th>
                          </tr>
                        </thead>
                        <tbody>
                          ${v.breaks.map(
                            (b) =>
                              html`<tr>
                                <td class="mono id">${b.target.kind}:${b.target.id}</td>
                                <td class="mono id">${b.entry_id ?? "—"}</td>
                                <td>${b.problem}</td>
                              </tr>`,
                          )}
                        </tbody>
                      </table>
                    </div>`
                  : nothing
              }`
          : nothing
      }
    </section>`;
  }
}
customElements.define("audit-page", AuditPage);
