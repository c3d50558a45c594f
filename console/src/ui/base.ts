import { LitElement, type PropertyValues } from "lit";

/**
 * Elements render into the light DOM: one global stylesheet, and tests and axe see a plain document.
 */
export class LightElement extends LitElement {
  protected override createRenderRoot(): HTMLElement {
    return this;
  }

  protected override updated(changed: PropertyValues): void {
    super.updated(changed);
    labelCells(this);
  }
}

/**
 * Gives each body cell its column's name (data-label), so that on a phone the stylesheet can show
 * every row as a card of "label: value" lines instead of a table wider than the screen.
 */
export function labelCells(root: ParentNode): void {
  for (const table of root.querySelectorAll<HTMLTableElement>("table.table")) {
    const heads = Array.from(table.tHead?.rows[0]?.cells ?? [], (c) => c.textContent?.trim() ?? "");
    for (const body of Array.from(table.tBodies)) {
      for (const row of Array.from(body.rows)) {
        Array.from(row.cells).forEach((cell, i) => {
          const label = heads[i];
          if (label && cell.dataset.label !== label) cell.dataset.label = label;
        });
      }
    }
  }
}
