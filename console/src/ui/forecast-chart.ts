import { html, type PropertyValues } from "lit";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import type { ForecastResponse } from "../types";
import { LightElement } from "./base";
import { num } from "./format";

const USERS = "#1d4ed8";
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const GLOBALS = "#c2410c";

/**
 * Salts coming due per day, stacked (users below, globals on top), with a text summary and a
 * table of the busy days for people who cannot see the canvas.
 */
export class ForecastChart extends LightElement {
  static override properties = { forecast: { attribute: false } };
  forecast: ForecastResponse | null = null;
  private plot: uPlot | null = null;
  private resize: ResizeObserver | null = null;

  override disconnectedCallback() {
    super.disconnectedCallback();
    this.plot?.destroy();
    this.plot = null;
    this.resize?.disconnect();
  }

  override render() {
    const f = this.forecast;
    if (!f) return html``;
    const total = f.buckets.reduce((s, b) => s + b.users + b.globals, 0);
    const busiest = f.buckets.reduce(
      (best, b) => (b.users + b.globals > best.n ? { date: b.date, n: b.users + b.globals } : best),
      { date: "", n: 0 },
    );
    const busy = f.buckets.filter((b) => b.users + b.globals > 0);
    const summary =
      total === 0
        ? `No salt comes due in the next ${f.buckets.length} days.`
        : `${num(total)} salts come due in the next ${f.buckets.length} days; the busiest day is ${busiest.date} with ${num(busiest.n)}.`;
    return html`<figure class="chart">
      <div class="chart-legend" aria-hidden="true">
        <span><i class="swatch swatch-users"></i>User salts</span>
        <span><i class="swatch swatch-globals"></i>Global salts</span>
      </div>
      <div class="chart-canvas" role="img" aria-label=${summary} data-testid="forecast-chart"></div>
      <figcaption data-testid="forecast-summary">${summary}</figcaption>
      ${
        busy.length > 0
          ? html`<details class="chart-table">
              <summary>
                Show the ${busy.length} day${busy.length === 1 ? "" : "s"} with salts due as a table
              </summary>
              <div class="table-wrap" tabindex="0" role="region" aria-label="Salts due per day">
                <table class="table">
                  <thead>
                    <tr>
                      <th scope="col">Date (UTC)</th>
                      <th scope="col" class="num">User salts</th>
                      <th scope="col" class="num">Global salts</th>
                    </tr>
                  </thead>
                  <tbody>
                    ${busy.map(
                      (b) =>
                        html`<tr>
                          <td class="mono">${b.date}</td>
                          <td class="num">${num(b.users)}</td>
                          <td class="num">${num(b.globals)}</td>
                        </tr>`,
                    )}
                  </tbody>
                </table>
              </div>
            </details>`
          : ""
      }
    </figure>`;
  }

  protected override updated(changed: PropertyValues) {
    super.updated(changed);
    const host = this.querySelector<HTMLElement>(".chart-canvas");
    const f = this.forecast;
    if (!host || !f) return;
    this.plot?.destroy();
    const xs = f.buckets.map((b) => Date.parse(`${b.date}T00:00:00Z`) / 1000);
    const users = f.buckets.map((b) => b.users);
    const globals = f.buckets.map((b) => b.globals);
    // Stacked by drawing the sum first and the lower series over it.
    const stacked = f.buckets.map((b) => b.users + b.globals);
    const bars = uPlot.paths.bars!({ size: [0.7, 24], align: 0 });
    const width = Math.max(280, host.clientWidth);
    const opts: uPlot.Options = {
      width,
      height: 220,
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), "Etc/UTC"),
      legend: { show: false },
      cursor: { drag: { x: false, y: false }, points: { show: false } },
      scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(4, Math.ceil(max * 1.15))] } },
      axes: [
        {
          stroke: "#4b5563",
          grid: { show: false },
          ticks: { stroke: "#d1d5db" },
          font: "12px system-ui, sans-serif",
          // "Nov 25", with the year under the first tick of each year.
          values: (_u, splits) => {
            let lastYear = -1;
            return splits.map((ts) => {
              const d = new Date(ts * 1000);
              const label = `${MONTHS[d.getUTCMonth()]} ${d.getUTCDate()}`;
              const year = d.getUTCFullYear();
              const out = year !== lastYear ? `${label}\n${year}` : label;
              lastYear = year;
              return out;
            });
          },
        },
        {
          stroke: "#4b5563",
          grid: { stroke: "#e5e7eb" },
          ticks: { show: false },
          font: "12px system-ui, sans-serif",
          size: 44,
          values: (_u, vals) => vals.map((v) => (Number.isInteger(v) ? num(v) : "")),
        },
      ],
      series: [
        {},
        {
          label: "Global salts",
          fill: GLOBALS,
          stroke: GLOBALS,
          width: 0,
          paths: bars,
          points: { show: false },
          value: (_u, _v, _s, i) => num(i === null ? null : globals[i]),
        },
        {
          label: "User salts",
          fill: USERS,
          stroke: USERS,
          width: 0,
          paths: bars,
          points: { show: false },
          value: (_u, _v, _s, i) => num(i === null ? null : users[i]),
        },
      ],
    };
    this.plot = new uPlot(opts, [xs, stacked, users], host);
    this.resize?.disconnect();
    this.resize = new ResizeObserver(() => {
      const w = Math.max(280, host.clientWidth);
      if (this.plot && Math.abs(this.plot.width - w) > 2) this.plot.setSize({ width: w, height: 220 });
    });
    this.resize.observe(host);
  }
}
customElements.define("forecast-chart", ForecastChart);
