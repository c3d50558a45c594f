import { LitElement } from "lit";

/**
 * Elements render into the light DOM: one global stylesheet, and tests and axe see a plain document.
 */
export class LightElement extends LitElement {
  protected override createRenderRoot(): HTMLElement {
    return this;
  }
}
