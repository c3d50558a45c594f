import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { localHosting } from "../../scripts/console-hosting.mjs";
import {
  AUTH_ORIGIN,
  checkDeployEnv,
  cspValues,
  FUNCTIONS_ORIGIN,
  hostingFor,
  projectOrigins,
  wideSources,
} from "../../scripts/lib/csp.mjs";

const ROOT = path.resolve(__dirname, "../..");
const hosting = JSON.parse(readFileSync(path.join(ROOT, "firebase.json"), "utf8")).hosting;
const directive = (csp: string, name: string) =>
  csp
    .split(";")
    .map((d) => d.trim().split(/\s+/))
    .find((d) => d[0] === name)
    ?.slice(1);

describe("the console's CSP names this project's own hosts only", () => {
  it("when firebase.json is read, then its CSP is a template with no host that admits other projects", () => {
    const [csp] = cspValues(hosting);
    expect(csp).toBeDefined();
    expect(wideSources(csp!)).toEqual([]);
    expect(directive(csp!, "connect-src")).toContain(FUNCTIONS_ORIGIN);
    expect(directive(csp!, "frame-src")).toEqual([AUTH_ORIGIN]);
    expect(hosting.predeploy[0]).toBe("node scripts/lib/csp.mjs check");
  });

  it("when filled in for a project, then the callables and sign-in origins are exactly that project's", () => {
    const filled = hostingFor(hosting, projectOrigins({ project: "acme-prod-7", region: "europe-west1" }));
    const [csp] = cspValues(filled);
    expect(wideSources(csp!)).toEqual([]);
    expect(csp).not.toMatch(/__SALTS_/);
    expect(directive(csp!, "connect-src")).toEqual([
      "'self'",
      "https://identitytoolkit.googleapis.com",
      "https://securetoken.googleapis.com",
      "https://europe-west1-acme-prod-7.cloudfunctions.net",
    ]);
    expect(directive(csp!, "frame-src")).toEqual(["https://acme-prod-7.firebaseapp.com"]);
    // The template itself is untouched.
    expect(cspValues(hosting)[0]).toContain(FUNCTIONS_ORIGIN);
  });

  it("when a custom sign-in domain is given, then it replaces the default one; a malformed project or host is refused", () => {
    const o = projectOrigins({ project: "acme-prod-7", authDomain: "login.acme.example" });
    expect(o).toEqual({
      functions: "https://us-central1-acme-prod-7.cloudfunctions.net",
      auth: "https://login.acme.example",
    });
    for (const bad of [
      { project: "*" },
      { project: "acme; script-src *" },
      { project: "acme-prod-7", region: "*" },
      { project: "acme-prod-7", authDomain: "*.firebaseapp.com" },
    ]) {
      expect(() => projectOrigins(bad)).toThrow();
    }
  });

  it("when the local stack serves the console, then the demo project's hosts and the emulators are allowed, nothing wider", () => {
    const local = localHosting(hosting, { auth: "127.0.0.1:9099", functions: "127.0.0.1:5001" });
    const [csp] = cspValues(local);
    expect(wideSources(csp!)).toEqual([]);
    expect(directive(csp!, "connect-src")).toEqual(
      expect.arrayContaining(["https://us-central1-demo-salts.cloudfunctions.net", "http://127.0.0.1:5001"]),
    );
    expect(directive(csp!, "frame-src")).toEqual([
      "https://demo-salts.firebaseapp.com",
      "http://127.0.0.1:9099",
    ]);
  });

  it("when hosting is deployed other than through scripts/deploy.mjs, then the predeploy check stops it", () => {
    expect(() => checkDeployEnv({ GCLOUD_PROJECT: "acme-prod-7" })).toThrow(/npm run deploy/);
    expect(() =>
      checkDeployEnv({ GCLOUD_PROJECT: "acme-prod-7", SALTS_CSP_PROJECT: "other-project" }),
    ).toThrow();
    expect(() =>
      checkDeployEnv({ GCLOUD_PROJECT: "acme-prod-7", SALTS_CSP_PROJECT: "acme-prod-7" }),
    ).not.toThrow();
  });

  it("when the old wildcard hosts are checked, then the check finds them (it can fail)", () => {
    expect(
      wideSources(
        "connect-src 'self' https://*.cloudfunctions.net; frame-src https://*.firebaseapp.com https:",
      ),
    ).toEqual(["https://*.cloudfunctions.net", "https://*.firebaseapp.com", "https:"]);
  });
});
