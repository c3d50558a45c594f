import { onIdTokenChanged, signOut, type User } from "firebase/auth";
import { html, nothing, type TemplateResult } from "lit";
import { APPROVALS_CHANGED, SaltsApi } from "./api";
import { loadConfig } from "./config";
import type { ConsoleContext, Roles } from "./context";
import { connectFirebase, type FirebaseHandles } from "./firebase";
import "./pages/access";
import "./pages/approvals";
import "./pages/audit";
import "./pages/bigquery";
import "./pages/jobs";
import "./pages/overview";
import "./pages/salts";
import "./pages/scopes";
import "./pages/settings";
import "./pages/signin";
import { LightElement } from "./ui/base";
import "./ui/error-panel";

interface Route {
  path: string;
  label: string;
  render: (ctx: ConsoleContext) => TemplateResult;
}

const ROUTES: Route[] = [
  {
    path: "/overview",
    label: "Overview",
    render: (ctx) => html`<overview-page .ctx=${ctx}></overview-page>`,
  },
  { path: "/salts", label: "Salts", render: (ctx) => html`<salts-page .ctx=${ctx}></salts-page>` },
  { path: "/jobs", label: "Jobs", render: (ctx) => html`<jobs-page .ctx=${ctx}></jobs-page>` },
  { path: "/audit", label: "Audit log", render: (ctx) => html`<audit-page .ctx=${ctx}></audit-page>` },
  {
    path: "/settings",
    label: "Settings",
    render: (ctx) => html`<settings-page .ctx=${ctx}></settings-page>`,
  },
  {
    path: "/approvals",
    label: "Approvals",
    render: (ctx) => html`<approvals-page .ctx=${ctx}></approvals-page>`,
  },
  { path: "/access", label: "Access", render: (ctx) => html`<access-page .ctx=${ctx}></access-page>` },
  { path: "/scopes", label: "Scopes", render: (ctx) => html`<scopes-page .ctx=${ctx}></scopes-page>` },
  {
    path: "/bigquery",
    label: "BigQuery",
    render: (ctx) => html`<bigquery-page .ctx=${ctx}></bigquery-page>`,
  },
];

type Phase = "booting" | "failed" | "signed-out" | "signed-in";

export class SaltsConsole extends LightElement {
  static override properties = {
    phase: { state: true },
    path: { state: true },
    bootError: { state: true },
    roles: { state: true },
    user: { state: true },
    pendingApprovals: { state: true },
  };
  phase: Phase = "booting";
  path = location.pathname;
  bootError: unknown = null;
  roles: Roles = { admin: false, auditor: false };
  user: User | null = null;
  /** Requests waiting for a second admin (the nav badge); null until known or when not offered. */
  pendingApprovals: number | null = null;
  private approvalsTimer: number | undefined;
  private fb: FirebaseHandles | null = null;
  private api: SaltsApi | null = null;
  private ctx: ConsoleContext | null = null;

  override connectedCallback() {
    // index.html holds a static "Loading" line for the first paint; Lit renders beside children, so drop it.
    this.replaceChildren();
    super.connectedCallback();
    window.addEventListener("popstate", () => this.setPath(location.pathname, false));
    window.addEventListener("resize", () => this.revealCurrentLink());
    window.addEventListener(APPROVALS_CHANGED, () => void this.countApprovals());
    this.addEventListener("click", (e) => this.interceptLink(e));
    void this.boot();
  }

  override updated(changed: Map<PropertyKey, unknown>) {
    super.updated(changed);
    if (changed.has("path") || changed.has("phase")) this.revealCurrentLink();
  }

  /**
   * On a phone the nav is one scrolling row: the current page's link is brought into view (on arrival
   * and when the window changes size). Nothing moves on a desktop, where the whole nav is visible.
   */
  private revealCurrentLink() {
    const nav = this.querySelector<HTMLElement>(".sidenav");
    const current = nav?.querySelector<HTMLElement>('a[aria-current="page"]');
    if (!nav || !current || nav.scrollWidth <= nav.clientWidth) return;
    const left = current.offsetLeft - (nav.clientWidth - current.offsetWidth) / 2;
    nav.scrollLeft = Math.max(0, left);
  }

  private async boot() {
    try {
      const config = await loadConfig();
      this.fb = connectFirebase(config);
      this.api = new SaltsApi(this.fb.functions);
      onIdTokenChanged(this.fb.auth, (user) => void this.onUser(user));
    } catch (e) {
      this.bootError = e;
      this.phase = "failed";
    }
  }

  private async onUser(user: User | null) {
    if (!user || !this.fb || !this.api) {
      this.user = null;
      this.ctx = null;
      this.phase = "signed-out";
      return;
    }
    const token = await user.getIdTokenResult();
    this.roles = { admin: token.claims.admin === true, auditor: token.claims.auditor === true };
    this.user = user;
    this.ctx = {
      api: this.api,
      roles: this.roles,
      email: user.email ?? user.uid,
      uid: user.uid,
      config: this.fb.config,
      navigate: (p) => this.setPath(p, true),
    };
    this.phase = "signed-in";
    if (this.path === "/" || this.path === "") this.setPath("/overview", false, true);
    void this.countApprovals();
  }

  /** The nav badge: pending requests, re-counted every 30 s and whenever this console changes them. */
  private async countApprovals() {
    window.clearTimeout(this.approvalsTimer);
    if (!this.api || !this.ctx || !(this.roles.admin || this.roles.auditor)) return;
    try {
      const r = await this.api.call("approvals", { state: "pending", limit: 100 });
      this.pendingApprovals = r.approvals.length;
    } catch {
      this.pendingApprovals = null;
    }
    this.approvalsTimer = window.setTimeout(() => void this.countApprovals(), 30_000);
  }

  private interceptLink(e: MouseEvent) {
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    const a = (e.target as Element).closest("a");
    if (!a || a.target || a.origin !== location.origin || a.hasAttribute("download")) return;
    e.preventDefault();
    this.setPath(a.pathname + a.search, true);
  }

  private setPath(p: string, push: boolean, replace = false) {
    const url = new URL(p, location.origin);
    if (push) history.pushState(null, "", url);
    else if (replace) history.replaceState(null, "", url);
    this.path = url.pathname;
    void this.updateComplete.then(() => {
      // Move focus to the new page's heading so keyboard and screen-reader users land on it.
      const h1 = this.querySelector<HTMLElement>("main h1");
      if (h1 && push) h1.focus();
      if (push) window.scrollTo(0, 0);
    });
  }

  private async signOut() {
    if (this.fb) await signOut(this.fb.auth);
    history.replaceState(null, "", "/");
    this.path = "/";
  }

  override render() {
    switch (this.phase) {
      case "booting":
        return html`<p class="boot" role="status">Loading the salts console…</p>`;
      case "failed":
        return html`<main class="signin" id="main">
          <div class="signin-card">
            <h1>The console could not start</h1>
            <error-panel .error=${this.bootError}></error-panel>
          </div>
        </main>`;
      case "signed-out":
        return html`<signin-page
          .auth=${this.fb!.auth}
          ?google=${this.fb!.config.googleSignIn}
          ?emulator=${this.fb!.config.emulators !== null}
        ></signin-page>`;
      case "signed-in":
        return this.shell();
    }
  }

  private shell() {
    const ctx = this.ctx!;
    const route = ROUTES.find((r) => this.path === r.path || this.path.startsWith(`${r.path}/`));
    const role = this.roles.admin ? "admin" : this.roles.auditor ? "auditor" : "no role";
    const body =
      !this.roles.admin && !this.roles.auditor
        ? html`<h1 tabindex="-1">No access</h1>
            <div class="notice notice-warn" role="status">
              <p class="notice-title">Your account has no role in this service</p>
              <p>
                Signed in as <strong>${ctx.email}</strong>, which carries neither the <code>admin</code> nor
                the <code>auditor</code> claim. Ask an administrator to grant one, then sign in again.
              </p>
            </div>`
        : route
          ? route.render(ctx)
          : html`<h1 tabindex="-1">Page not found</h1>
              <p>
                There is no page at <code>${this.path}</code>. <a href="/overview">Go to the overview</a>.
              </p>`;
    return html`<a class="skip" href="#main">Skip to content</a>
      <div class="layout">
        <header class="topbar">
          <a class="brand" href="/overview"
            ><span class="brand-mark" aria-hidden="true"></span>Salts console</a
          >
          <span class="project" title="Firebase project">${ctx.config.firebase.projectId}</span>
          ${ctx.config.emulators ? html`<span class="badge badge-warn">Emulators</span>` : nothing}
          <span class="spacer"></span>
          <span class="who">
            <span class="who-email">${ctx.email}</span>
            <span class="badge ${role === "admin" ? "badge-admin" : "badge-neutral"}" data-testid="role"
              >${role}</span
            >
          </span>
          <button class="btn btn-ghost" type="button" @click=${this.signOut}>Sign out</button>
        </header>
        <nav class="sidenav" aria-label="Sections">
          <ul>
            ${ROUTES.map(
              (r) =>
                html`<li>
                  <a href=${r.path} aria-current=${route === r ? "page" : nothing}
                    >${r.label}${r.path === "/approvals" ? this.approvalsBadge() : nothing}</a
                  >
                </li>`,
            )}
          </ul>
        </nav>
        <main id="main" class="content">${body}</main>
      </div>`;
  }

  private approvalsBadge() {
    const n = this.pendingApprovals;
    if (!n) return nothing;
    return html` <span class="badge badge-warn nav-count" data-testid="approvals-badge"
      >${n >= 100 ? "99+" : n}<span class="sr-only"> pending</span></span
    >`;
  }
}
customElements.define("salts-console", SaltsConsole);
