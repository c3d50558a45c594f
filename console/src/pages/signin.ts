import {
  browserPopupRedirectResolver,
  GoogleAuthProvider,
  signInWithEmailAndPassword,
  signInWithPopup,
  type Auth,
} from "firebase/auth";
import { html, nothing } from "lit";
import { LightElement } from "../ui/base";

const MESSAGES: Record<string, string> = {
  "auth/invalid-credential": "The email or password is wrong.",
  "auth/wrong-password": "The email or password is wrong.",
  "auth/user-not-found": "The email or password is wrong.",
  "auth/invalid-email": "That is not a valid email address.",
  "auth/too-many-requests": "Too many attempts. Wait a few minutes, then try again.",
  "auth/network-request-failed":
    "The sign-in service could not be reached. Check the connection and try again.",
  "auth/popup-closed-by-user": "The Google sign-in window was closed before signing in.",
  "auth/user-disabled": "This account is disabled.",
};

export class SignInPage extends LightElement {
  static override properties = {
    auth: { attribute: false },
    google: { type: Boolean },
    emulator: { type: Boolean },
    busy: { state: true },
    error: { state: true },
  };
  auth!: Auth;
  google = false;
  emulator = false;
  busy = false;
  error: string | null = null;

  private async submit(e: SubmitEvent) {
    e.preventDefault();
    const form = new FormData(e.target as HTMLFormElement);
    await this.attempt(() =>
      signInWithEmailAndPassword(this.auth, String(form.get("email")), String(form.get("password"))),
    );
  }

  private async google_() {
    // The popup resolver is passed here rather than to initializeAuth, so it loads no iframe until used.
    await this.attempt(() =>
      signInWithPopup(this.auth, new GoogleAuthProvider(), browserPopupRedirectResolver),
    );
  }

  private async attempt(fn: () => Promise<unknown>) {
    this.busy = true;
    this.error = null;
    try {
      await fn();
    } catch (e) {
      const code = (e as { code?: string }).code ?? "";
      this.error = MESSAGES[code] ?? `Sign-in failed (${code || String(e)}).`;
    } finally {
      this.busy = false;
    }
  }

  override render() {
    return html`<main class="signin" id="main">
      <div class="signin-card">
        <div class="brand brand-lg" aria-hidden="true"><span class="brand-mark"></span>Salts console</div>
        <h1>Sign in</h1>
        <p class="muted">Administrators and auditors of the pseudonymization service.</p>
        ${this.emulator ? html`<p class="badge badge-warn">Local emulators: demo accounts only</p>` : nothing}
        <form @submit=${this.submit} novalidate>
          <div class="field">
            <label for="email">Email</label>
            <input id="email" name="email" type="email" autocomplete="username" required />
          </div>
          <div class="field">
            <label for="password">Password</label>
            <input id="password" name="password" type="password" autocomplete="current-password" required />
          </div>
          ${
            this.error
              ? html`<div class="notice notice-error" role="alert"><p>${this.error}</p></div>`
              : nothing
          }
          <button class="btn btn-primary btn-block" type="submit" ?disabled=${this.busy}>
            ${this.busy ? "Signing in…" : "Sign in"}
          </button>
        </form>
        ${
          this.google
            ? html`<div class="or"><span>or</span></div>
                <button class="btn btn-block" type="button" ?disabled=${this.busy} @click=${this.google_}>
                  Sign in with Google
                </button>`
            : nothing
        }
      </div>
    </main>`;
  }
}
customElements.define("signin-page", SignInPage);
