import { html, nothing } from "lit";
import { APPROVALS_CHANGED, type ApiError } from "../api";
import { canMutate, type ConsoleContext } from "../context";
import type {
  Approval,
  ApprovalsResponse,
  ApprovalState,
  DecideResponse,
  GuardableOperation,
  SetApprovalsResponse,
} from "../types";
import { LightElement } from "../ui/base";
import { notAvailable } from "../ui/error-panel";
import { relative, utc } from "../ui/format";

const GUARDABLE: { op: GuardableOperation; label: string }[] = [
  { op: "erase", label: "Erase a user's salts" },
  { op: "rewrap", label: "Rewrap every salt" },
  { op: "rotate_due", label: "Rotate every due salt" },
  { op: "reload", label: "Reload the configuration" },
  { op: "set_role", label: "Grant or revoke a role" },
];

type Filter = "" | ApprovalState;

const stateBadge = (s: ApprovalState) =>
  html`<span
    class="badge ${s === "pending" ? "badge-warn" : s === "approved" ? "badge-ok" : s === "rejected" ? "badge-bad" : "badge-neutral"}"
    >${s}</span
  >`;

/**
 * Dual control: which operations need a second admin, and the requests waiting for one. Admins decide
 * requests others made; the admin who asked sees theirs waiting; auditors read.
 */
export class ApprovalsPage extends LightElement {
  static override properties = {
    ctx: { attribute: false },
    list: { state: true },
    filter: { state: true },
    error: { state: true },
    busy: { state: true },
    decided: { state: true },
    decideError: { state: true },
    policySaved: { state: true },
    policyError: { state: true },
  };
  ctx!: ConsoleContext;
  list: ApprovalsResponse | null = null;
  filter: Filter = "pending";
  error: unknown = null;
  busy = false;
  decided: DecideResponse | null = null;
  decideError: unknown = null;
  policySaved: SetApprovalsResponse | null = null;
  policyError: unknown = null;

  override connectedCallback() {
    super.connectedCallback();
    const id = new URLSearchParams(location.search).get("id");
    if (id) this.filter = "";
    void this.load();
  }

  private async load() {
    try {
      this.list = await this.ctx.api.call("approvals", {
        limit: 100,
        ...(this.filter ? { state: this.filter } : {}),
      });
      this.error = null;
    } catch (e) {
      this.error = e;
    }
  }

  private changed() {
    window.dispatchEvent(new CustomEvent(APPROVALS_CHANGED));
  }

  private onFilter(e: Event) {
    this.filter = (e.target as HTMLSelectElement).value as Filter;
    void this.load();
  }

  private async decide(e: SubmitEvent, a: Approval) {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const reason = String(new FormData(form).get("reason") ?? "").trim();
    const decision = (e.submitter as HTMLButtonElement | null)?.value === "reject" ? "reject" : "approve";
    this.busy = true;
    this.decided = null;
    this.decideError = null;
    try {
      this.decided = await this.ctx.api.call("approve", { approval_id: a.approval_id, decision, reason });
      this.changed();
      await this.load();
    } catch (err) {
      this.decideError = err;
      await this.load();
    } finally {
      this.busy = false;
    }
  }

  private async savePolicy(e: SubmitEvent) {
    e.preventDefault();
    const f = new FormData(e.target as HTMLFormElement);
    const operations = f.getAll("op").map(String) as GuardableOperation[];
    this.busy = true;
    this.policySaved = null;
    this.policyError = null;
    try {
      this.policySaved = await this.ctx.api.call("setApprovals", {
        operations,
        reason: String(f.get("reason") ?? "").trim(),
      });
      if (this.policySaved.pending_approval) this.changed();
      await this.load();
    } catch (err) {
      this.policyError = err;
    } finally {
      this.busy = false;
    }
  }

  override render() {
    const err = this.error as ApiError | null;
    return html`<div class="page-head"><h1 tabindex="-1">Approvals</h1></div>
      ${
        err?.notAvailable
          ? notAvailable("Dual control (salts-approvals)")
          : html`<error-panel .error=${this.error} .retry=${() => void this.load()}></error-panel>`
      }
      ${this.policyPanel()}
      <section class="panel" aria-labelledby="requests-h">
        <div class="panel-head">
          <h2 id="requests-h">Requests</h2>
          <div class="button-row">
            <label class="sr-only" for="state-filter">Show requests that are</label>
            <select id="state-filter" @change=${this.onFilter} .value=${this.filter}>
              <option value="pending">Pending</option>
              <option value="">All</option>
              <option value="approved">Approved</option>
              <option value="rejected">Rejected</option>
              <option value="expired">Expired</option>
            </select>
            <button class="btn btn-sm" type="button" @click=${() => void this.load()}>Refresh</button>
          </div>
        </div>
        <error-panel .error=${this.decideError}></error-panel>
        ${this.decided ? this.decidedNotice(this.decided) : nothing} ${this.requests()}
      </section>`;
  }

  private policyPanel() {
    const policy = this.list?.policy;
    const guarded = new Set(policy?.operations ?? []);
    const admin = canMutate(this.ctx);
    return html`<section class="panel" aria-labelledby="policy-h">
      <h2 id="policy-h">Operations that need a second admin</h2>
      ${
        policy && !policy.intact
          ? html`<div class="notice notice-warn" role="status">
              <p>
                The stored policy failed its integrity check, so every operation is guarded until an admin
                saves the policy again.
              </p>
            </div>`
          : nothing
      }
      ${
        admin
          ? html`<form @submit=${this.savePolicy} data-testid="policy-form">
              <fieldset class="stack">
                <legend class="sr-only">Guarded operations</legend>
                ${GUARDABLE.map(
                  (g) =>
                    html`<label class="check"
                      ><input type="checkbox" name="op" value=${g.op} .checked=${guarded.has(g.op)} />
                      ${g.label} <span class="mono muted small">${g.op}</span></label
                    >`,
                )}
              </fieldset>
              <div class="inline-form">
                <div class="field grow">
                  <label for="policy-reason">Reason</label>
                  <input id="policy-reason" name="reason" required maxlength="500" autocomplete="off" />
                </div>
                <button class="btn btn-primary" type="submit" ?disabled=${this.busy || !policy}>Save</button>
              </div>
              <p class="muted small">
                A guard you add holds at once. Removing one is itself a request another admin must approve.
              </p>
            </form>`
          : html`<p data-testid="policy">
              ${policy ? (policy.operations.length ? policy.operations.join(", ") : "None: every operation acts at once.") : "…"}
            </p>`
      }
      <error-panel .error=${this.policyError}></error-panel>
      ${
        this.policySaved
          ? html`<div
              class="notice ${this.policySaved.pending_approval ? "notice-warn" : "notice-ok"}"
              role="status"
              data-testid="policy-saved"
            >
              <p>Guarded now: ${this.policySaved.operations.join(", ") || "nothing"}.</p>
              ${
                this.policySaved.pending_approval
                  ? html`<p>
                      Removing guards waits for another admin: request
                      <span class="mono">${this.policySaved.pending_approval.approval_id}</span>.
                    </p>`
                  : nothing
              }
            </div>`
          : nothing
      }
    </section>`;
  }

  private decidedNotice(d: DecideResponse) {
    const a = d.approval;
    return html`<div
      class="notice ${d.error ? "notice-warn" : "notice-ok"}"
      role="status"
      data-testid="decided"
    >
      <p class="notice-title">
        ${a.state === "approved" ? `Approved: ${a.operation} ${d.error ? "failed" : "ran"}` : `Rejected: ${a.operation} will not run`}
      </p>
      ${d.result ? html`<pre class="mono small request">${JSON.stringify(d.result, null, 2)}</pre>` : nothing}
      ${d.error ? html`<p>${d.error.code}: ${d.error.message}</p>` : nothing}
      <p class="notice-meta">Correlation id <code>${d.correlation_id}</code></p>
    </div>`;
  }

  private requests() {
    if (!this.list) return html`<p class="muted" aria-busy="true">Loading…</p>`;
    const focus = new URLSearchParams(location.search).get("id");
    const items = this.list.approvals;
    if (items.length === 0)
      return html`<div class="empty">
        <p class="empty-title">No ${this.filter || ""} requests</p>
        <p>Calls to guarded operations wait here for a second admin.</p>
      </div>`;
    return html`<ul class="approval-list" data-testid="approvals">
      ${items.map((a) => this.request(a, a.approval_id === focus))}
    </ul>`;
  }

  private request(a: Approval, focused: boolean) {
    const mine = a.requested_by === this.ctx.uid;
    const canDecide = canMutate(this.ctx) && !mine && a.state === "pending";
    const id = a.approval_id;
    return html`<li class="approval ${focused ? "panel-accent" : ""}" data-testid="approval" data-id=${id}>
      <div class="panel-head">
        <h3><span class="mono">${a.operation}</span> ${stateBadge(a.state)}</h3>
        <span class="mono small muted">${id}</span>
      </div>
      <dl class="facts">
        <div>
          <dt>Requested by</dt>
          <dd class="mono id">
            ${a.requested_by}${mine ? html` <span class="muted">(you)</span>` : nothing}
          </dd>
        </div>
        <div>
          <dt>Requested</dt>
          <dd>${utc(a.requested_at)} <span class="muted">(${relative(a.requested_at)})</span></dd>
        </div>
        <div>
          <dt>${a.state === "pending" ? "Expires" : "Expired or decided"}</dt>
          <dd>
            ${a.state === "pending" ? html`${utc(a.expires_at)} <span class="muted">(${relative(a.expires_at)})</span>` : utc(a.decided_at ?? a.expires_at)}
          </dd>
        </div>
        ${
          a.decided_by
            ? html`<div>
                <dt>Decided by</dt>
                <dd class="mono id">${a.decided_by}</dd>
              </div>`
            : nothing
        }
        ${
          a.reason
            ? html`<div>
                <dt>Decision reason</dt>
                <dd>${a.reason}</dd>
              </div>`
            : nothing
        }
      </dl>
      <pre class="mono small request" aria-label="The request">${JSON.stringify(a.request, null, 2)}</pre>
      ${
        canDecide
          ? html`<form
              class="inline-form"
              @submit=${(e: SubmitEvent) => this.decide(e, a)}
              data-testid="decide-form"
            >
              <div class="field grow">
                <label for=${`reason-${id}`}>Reason for your decision</label>
                <input id=${`reason-${id}`} name="reason" required maxlength="500" autocomplete="off" />
              </div>
              <button class="btn btn-primary" type="submit" value="approve" ?disabled=${this.busy}>
                Approve
              </button>
              <button class="btn btn-danger" type="submit" value="reject" ?disabled=${this.busy}>
                Reject
              </button>
            </form>`
          : a.state === "pending"
            ? html`<p class="muted small" data-testid="waiting">
                ${
                  mine
                    ? "Waiting for another admin: you cannot decide your own request."
                    : canMutate(this.ctx)
                      ? "Another admin decides this request."
                      : "Read only: an admin other than the one who asked decides this request."
                }
              </p>`
            : nothing
      }
    </li>`;
  }
}
customElements.define("approvals-page", ApprovalsPage);
