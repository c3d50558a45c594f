import { html, nothing } from "lit";
import { describeError } from "../errors";
import { LightElement } from "./base";

/** A failure in plain words with its correlation id; a retry button when retrying is meaningful. */
export class ErrorPanel extends LightElement {
  static override properties = { error: { attribute: false }, retry: { attribute: false } };
  error: unknown = null;
  retry: (() => void) | null = null;

  override render() {
    if (this.error === null || this.error === undefined) return nothing;
    const d = describeError(this.error);
    if (d.pending) {
      return html`<div class="notice notice-warn" role="status" data-testid="pending-approval">
        <p class="notice-title">${d.title}</p>
        <p>${d.body}</p>
        <p>
          ${d.advice}
          <a href=${`/approvals?id=${encodeURIComponent(d.pending.approvalId)}`}>Open Approvals</a>
        </p>
      </div>`;
    }
    return html`<div class="notice notice-error" role="alert" data-testid="error">
      <p class="notice-title">${d.title}</p>
      <p>${d.body}</p>
      ${d.advice ? html`<p>${d.advice}</p>` : nothing}
      ${
        d.correlationId
          ? html`<p class="notice-meta">
              Correlation id <code data-testid="correlation-id">${d.correlationId}</code>
            </p>`
          : nothing
      }
      ${
        this.retry
          ? html`<button type="button" class="btn" @click=${() => this.retry?.()}>Retry</button>`
          : nothing
      }
    </div>`;
  }
}
customElements.define("error-panel", ErrorPanel);

/** A feature the connected server does not offer yet. */
export function notAvailable(what: string) {
  return html`<div class="empty" data-testid="not-available">
    <p class="empty-title">Not available on this server yet</p>
    <p>${what} needs a newer version of the salts functions. Everything else keeps working.</p>
  </div>`;
}
