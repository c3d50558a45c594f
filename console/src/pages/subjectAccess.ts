import { html, nothing } from "lit";
import type { ApiError } from "../api";
import type { ConsoleContext } from "../context";
import { csvCell } from "../csv";
import type { SubjectReportResponse } from "../scopeTypes";
import { LightElement } from "../ui/base";
import { plural, utc } from "../ui/format";
import { auditTable } from "../ui/tables";

/** One pseudonym of a report per row: what a search of pseudonymized stores needs. */
interface Row {
  salt: "user" | "global";
  event_type: string;
  version: number;
  current: boolean;
  field: string;
  pseudonym: string;
}

export function reportRows(r: SubjectReportResponse): Row[] {
  const rows: Row[] = [];
  for (const v of r.versions)
    for (const [field, pseudonym] of Object.entries(v.pseudonyms))
      rows.push({
        salt: "user",
        event_type: "",
        version: v.version,
        current: !v.retired_at,
        field,
        pseudonym,
      });
  const newest = new Map<string, number>();
  for (const g of r.globals) newest.set(g.event_type, Math.max(newest.get(g.event_type) ?? 0, g.version));
  for (const g of r.globals)
    for (const [field, pseudonym] of Object.entries(g.pseudonyms))
      rows.push({
        salt: "global",
        event_type: g.event_type,
        version: g.version,
        current: newest.get(g.event_type) === g.version,
        field,
        pseudonym,
      });
  return rows;
}

export function reportCsv(r: SubjectReportResponse): string {
  const head = ["salt", "event_type", "version", "current", "field", "pseudonym"];
  const lines = reportRows(r).map((x) =>
    [x.salt, x.event_type, x.version, x.current, x.field, x.pseudonym].map(csvCell).join(","),
  );
  return `${[head.join(","), ...lines].join("\r\n")}\r\n`;
}

function download(name: string, type: string, body: string) {
  const a = document.createElement("a");
  a.href = URL.createObjectURL(new Blob([body], { type }));
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
}

/** `field=value` per line (the value may hold "="); blank lines are skipped. */
function parseValues(text: string): { values: Record<string, string>; bad: string[] } {
  const values: Record<string, string> = {};
  const bad: string[] = [];
  for (const line of text.split("\n").map((l) => l.trim())) {
    if (!line) continue;
    const at = line.indexOf("=");
    if (at < 1) bad.push(line);
    else values[line.slice(0, at).trim()] = line.slice(at + 1);
  }
  return { values, bad };
}

/**
 * "Subject access" on a user's page (admins): the report of salts-subjectReport for a data-subject
 * access request, shown and downloadable as JSON (everything) and CSV (one pseudonym per row).
 */
export class SubjectAccess extends LightElement {
  static override properties = {
    ctx: { attribute: false },
    userId: { attribute: false },
    report: { state: true },
    error: { state: true },
    busy: { state: true },
    inputProblem: { state: true },
  };
  ctx!: ConsoleContext;
  userId = "";
  report: SubjectReportResponse | null = null;
  error: unknown = null;
  busy = false;
  inputProblem: string | null = null;

  override willUpdate(changed: Map<string, unknown>) {
    // Another subject: the report shown was someone else's.
    if (changed.has("userId") && changed.get("userId") !== undefined) {
      this.report = null;
      this.error = null;
    }
  }

  private async run(e: SubmitEvent) {
    e.preventDefault();
    const form = new FormData(e.target as HTMLFormElement);
    const { values, bad } = parseValues(String(form.get("values") ?? ""));
    if (bad.length > 0) {
      this.inputProblem = `Write each identifier as field=value (not understood: ${bad.join(", ")}).`;
      return;
    }
    this.inputProblem = null;
    const eventTypes = String(form.get("event_types") ?? "")
      .split(/[\s,]+/)
      .filter(Boolean);
    this.busy = true;
    this.error = null;
    try {
      this.report = await this.ctx.api.call("subjectReport", {
        user_id: this.userId,
        ...(Object.keys(values).length ? { values } : {}),
        ...(eventTypes.length ? { event_types: eventTypes } : {}),
        reason: String(form.get("reason") ?? "").trim(),
      });
    } catch (err) {
      this.report = null;
      this.error = err;
    } finally {
      this.busy = false;
    }
  }

  private fileName(ext: string): string {
    const stamp = new Date().toISOString().slice(0, 19).replace(/[-:]/g, "").replace("T", "-");
    const id = this.userId.replace(/[^A-Za-z0-9_.-]/g, "_").slice(0, 64);
    return `subject-report-${id}-${stamp}Z.${ext}`;
  }

  override render() {
    const err = this.error as ApiError | null;
    return html`<section class="panel" aria-labelledby="sar-h" data-testid="subject-access">
      <h2 id="sar-h">Subject access</h2>
      <p class="muted small sar-intro">
        For a data-subject access request: the pseudonym of each identifier under every retained salt version
        of <span class="mono id">${this.userId}</span> (and of the event types named), the subject's audit
        entries, and whether the subject was erased. Running the report is itself audited.
      </p>
      <form class="stack" @submit=${this.run}>
        <div class="field">
          <label for="sar-values">Identifiers, one <code>field=value</code> per line</label>
          <textarea
            id="sar-values"
            name="values"
            rows="3"
            class="mono"
            spellcheck="false"
            placeholder="email=alice@example.com"
          ></textarea>
        </div>
        <div class="field">
          <label for="sar-events">Event types (optional, comma-separated)</label>
          <input
            id="sar-events"
            name="event_types"
            class="mono"
            autocomplete="off"
            placeholder="signup, page_view"
          />
        </div>
        <div class="field">
          <label for="sar-reason">Reason</label>
          <input id="sar-reason" name="reason" required maxlength="500" placeholder="e.g. DSAR 2026-17" />
        </div>
        ${this.inputProblem ? html`<p class="field-error" role="alert">${this.inputProblem}</p>` : nothing}
        <div><button class="btn btn-primary" type="submit" ?disabled=${this.busy}>Run report</button></div>
      </form>
      ${
        err?.notAvailable
          ? html`<p class="muted">The subject access report needs a newer version of the salts functions.</p>`
          : html`<error-panel .error=${this.error}></error-panel>`
      }
      ${this.report ? this.result(this.report) : nothing}
    </section>`;
  }

  private result(r: SubjectReportResponse) {
    const rows = reportRows(r);
    const state =
      r.state === "active"
        ? html`<span class="badge badge-ok">active</span>`
        : r.state === "erased"
          ? html`<span class="badge badge-warn">erased</span>`
          : html`<span class="badge badge-neutral">unknown</span>`;
    return html`<div class="report" data-testid="subject-report">
      <dl class="facts">
        <div>
          <dt>State</dt>
          <dd data-testid="report-state">${state}</dd>
        </div>
        ${
          r.erased_at
            ? html`<div>
                <dt>Erased</dt>
                <dd data-testid="report-erased-at">${utc(r.erased_at, true)}</dd>
              </div>`
            : nothing
        }
        <div>
          <dt>Salt versions</dt>
          <dd>${r.versions.map((v) => v.version).join(", ") || "none"}</dd>
        </div>
        <div>
          <dt>Generated</dt>
          <dd>${utc(r.generated_at, true)}</dd>
        </div>
      </dl>
      <div class="button-row">
        <button
          class="btn"
          type="button"
          data-testid="download-json"
          @click=${() => download(this.fileName("json"), "application/json", `${JSON.stringify(r, null, 2)}\n`)}
        >
          Download JSON
        </button>
        <button
          class="btn"
          type="button"
          data-testid="download-csv"
          @click=${() => download(this.fileName("csv"), "text/csv;charset=utf-8", reportCsv(r))}
        >
          Download CSV
        </button>
      </div>
      <h3>Pseudonyms (${plural(rows.length, "row")})</h3>
      ${
        rows.length === 0
          ? html`<p class="muted">
              ${r.state === "active" ? "No identifiers were given." : "No salt is stored: nothing can be pseudonymized."}
            </p>`
          : html`<div class="table-wrap" tabindex="0" role="region" aria-label="Pseudonyms of the subject">
              <table class="table" data-testid="report-table">
                <thead>
                  <tr>
                    <th scope="col">Salt</th>
                    <th scope="col" class="num">Version</th>
                    <th scope="col">Field</th>
                    <th scope="col">Pseudonym</th>
                  </tr>
                </thead>
                <tbody>
                  ${rows.map(
                    (x) =>
                      html`<tr>
                        <td>
                          ${x.salt === "user" ? "user" : html`global <span class="mono">${x.event_type}</span>`}
                          ${x.current ? html`<span class="badge badge-info">current</span>` : nothing}
                        </td>
                        <td class="num">${x.version}</td>
                        <td class="mono">${x.field}</td>
                        <td class="mono id">${x.pseudonym}</td>
                      </tr>`,
                  )}
                </tbody>
              </table>
            </div>`
      }
      <h3>Audit entries of the subject${r.audit_truncated ? " (newest 500)" : ""}</h3>
      ${r.audit.length === 0 ? html`<p class="muted">No audit entries.</p>` : auditTable(r.audit, "Audit entries of the subject", "report-audit")}
    </div>`;
  }
}
customElements.define("subject-access", SubjectAccess);
