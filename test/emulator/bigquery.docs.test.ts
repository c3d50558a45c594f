import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { composeServices } from "../../functions/app/compose";
import { demoBatchBody, unsignedIdToken } from "../../scripts/stack-client.mjs";
import { PROJECT_ID } from "../support/firestore";
import { testConfig } from "../support/runtimes";
import { functionsHost } from "../support/stack";
import { salts } from "./cli.harness";

const DOC = readFileSync(path.resolve(__dirname, "../../docs/BIGQUERY.md"), "utf8");
const INVOKER = "bigquery-demo@demo-salts.iam.gserviceaccount.com";

/** The fenced block that follows each `<!-- <marker> ... -->` comment of the page, with the comment's words. */
function examples(marker: string): { args: string[]; body: string }[] {
  const pattern = new RegExp(`<!-- ${marker}(.*?)-->\\s*\`\`\`\\w+\\n([\\s\\S]*?)\`\`\``, "g");
  return [...DOC.matchAll(pattern)].map((m) => ({
    args: m[1]!.trim().split(/\s+/).filter(Boolean),
    body: m[2]!,
  }));
}

describe("docs/BIGQUERY.md, checked by running what it shows", () => {
  it("when the page's DDL example is compared with `salts bigquery ddl` run with its arguments, then they are the same text", async () => {
    const ddl = examples("ddl:example");
    expect(ddl).toHaveLength(1);
    const run = await salts(["bigquery", "ddl", ...ddl[0]!.args]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(ddl[0]!.body);
    // Every DDL statement the page shows in section 2 names one of the modes and asks for the batch size.
    expect(run.stdout).toContain('user_defined_context = [("mode", "user"), ("field", "email")]');
    expect(run.stdout).toContain('user_defined_context = [("mode", "event"), ("field", "email")]');
    expect(run.stdout).toContain('user_defined_context = [("mode", "user_previous"), ("field", "email")]');
    expect(run.stdout.match(/max_batching_rows = 1000/g)).toHaveLength(3);
  });

  it("when the page's request example is posted to the endpoint as npm start does, then it answers what the library answers", async () => {
    const request = examples("request:example");
    expect(request).toHaveLength(1);
    const body = JSON.parse(request[0]!.body) as ReturnType<typeof demoBatchBody>;
    expect(body).toEqual(demoBatchBody(PROJECT_ID));
    const url = `http://${functionsHost()}/${PROJECT_ID}/us-central1/salts-pseudonymizeBatch`;
    const res = await fetch(url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        authorization: `Bearer ${unsignedIdToken(INVOKER, url)}`,
      },
      body: JSON.stringify(body),
    });
    expect(res.status).toBe(200);
    const library = composeServices({
      config: testConfig({
        projectId: PROJECT_ID,
        secretManagerHost: process.env.SECRET_MANAGER_EMULATOR_HOST!,
      }),
    });
    const alice = await library.pseudonymizer.pseudonymizeUserData("alice", { email: "alice@example.com" }, [
      "email",
    ]);
    expect(await res.json()).toEqual({ replies: [alice.data.email, null] });
  });

  it("when `salts bigquery ddl` is given malformed names or no endpoint, then it exits 2 naming what is wrong and prints nothing", async () => {
    const bad = await salts([
      "bigquery",
      "ddl",
      "--dataset",
      "nodot",
      "--connection",
      "p.us",
      "--url",
      "http://x",
    ]);
    expect(bad.code).toBe(2);
    expect(bad.stdout).toBe("");
    expect(bad.stderr).toMatch(
      /--dataset must be PROJECT\.DATASET; --connection must be PROJECT\.LOCATION\.CONNECTION_ID; --url must be an https URL/,
    );
    const quote = await salts([
      "bigquery",
      "ddl",
      "--dataset",
      "my-project.ds",
      "--connection",
      "my-project.us.c",
      "--url",
      "https://x/'; DROP",
    ]);
    expect(quote.code).toBe(2);
    const missing = await salts(["bigquery", "ddl", "--connection", "my-project.us.c"]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/--dataset/);
    const noProject = await salts(
      ["bigquery", "ddl", "--dataset", "my-project.ds", "--connection", "my-project.us.c"],
      { GOOGLE_CLOUD_PROJECT: undefined, GCLOUD_PROJECT: undefined, SALTS_PROJECT: undefined },
      undefined,
      60_000,
    );
    // Inside this checkout .firebaserc names the demo project, so the endpoint is known.
    expect(noProject.stdout).toContain(
      "https://us-central1-demo-salts.cloudfunctions.net/salts-pseudonymizeBatch",
    );
  });
});
