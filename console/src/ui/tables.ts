import { html } from "lit";
import type { AuditEntry, SaltMetadata } from "../types";
import { relative, utc } from "./format";

export const resultBadge = (r: string) =>
  html`<span class="badge ${r === "success" ? "badge-ok" : r === "denied" ? "badge-warn" : "badge-bad"}"
    >${r}</span
  >`;

/** Audit entries as a table; long ids wrap inside monospace cells instead of stretching the page. */
export function auditTable(entries: AuditEntry[], label: string, testid = "audit-table") {
  return html`<div class="table-wrap" tabindex="0" role="region" aria-label=${label}>
    <table class="table" data-testid=${testid}>
      <thead>
        <tr>
          <th scope="col">Time (UTC)</th>
          <th scope="col">Operation</th>
          <th scope="col">Target</th>
          <th scope="col">Result</th>
          <th scope="col">Actor</th>
          <th scope="col">Reason</th>
          <th scope="col">Correlation id</th>
        </tr>
      </thead>
      <tbody>
        ${entries.map(
          (e) =>
            html`<tr>
              <td class="nowrap">${utc(e.at, true).replace(" UTC", "")}</td>
              <td class="mono">${e.operation}</td>
              <td class="mono id"><span class="muted">${e.target.kind}:</span>${e.target.id}</td>
              <td>
                ${resultBadge(e.result)}${e.details?.code ? html` <span class="mono small nowrap">${e.details.code}</span>` : ""}${
                  e.verified === false
                    ? html` <span
                        class="badge badge-bad"
                        data-testid="unverified"
                        title="No valid chain link under the audit key: not written by the service, or changed"
                        >unverified</span
                      >`
                    : ""
                }
              </td>
              <td class="mono id">${e.actor.uid} <span class="muted">(${e.actor.via})</span></td>
              <td class="reason">${e.reason ?? html`<span class="muted">—</span>`}</td>
              <td class="mono small nowrap corr" title=${e.correlation_id}>${e.correlation_id}</td>
            </tr>`,
        )}
      </tbody>
    </table>
  </div>`;
}

export function saltFacts(s: SaltMetadata) {
  return html`<dl class="facts" data-testid="salt-facts">
    <div>
      <dt>Kind</dt>
      <dd>${s.kind}</dd>
    </div>
    <div>
      <dt>Id</dt>
      <dd class="mono id">${s.id}</dd>
    </div>
    <div>
      <dt>Version</dt>
      <dd data-testid="salt-version">${s.version}</dd>
    </div>
    <div>
      <dt>Rotations</dt>
      <dd>${s.rotation_count}</dd>
    </div>
    <div>
      <dt>Created</dt>
      <dd>${utc(s.created_at)}</dd>
    </div>
    <div>
      <dt>Last rotated</dt>
      <dd>${utc(s.last_rotated)} <span class="muted">(${relative(s.last_rotated)})</span></dd>
    </div>
    <div>
      <dt>Next rotation</dt>
      <dd>
        ${utc(s.next_rotation)}
        ${s.due ? html`<span class="badge badge-warn">due</span>` : html`<span class="muted">(${relative(s.next_rotation)})</span>`}
      </dd>
    </div>
    <div>
      <dt>Previous salt hash</dt>
      <dd class="mono">${s.previous_salt_hash ?? html`<span class="muted">none yet</span>`}</dd>
    </div>
  </dl>`;
}
