/// <reference lib="dom" />
import type { Browser, Locator, Route } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { unsignedIdToken } from "../../scripts/stack-client.mjs";
import { functionsHost } from "../support/stack";
import {
  axeProblems,
  launch,
  openPage,
  PHONE,
  screenshots,
  sidewaysOverflow,
  signedIn,
  type Session,
} from "./harness";

const INVOKER = "bigquery-demo@demo-salts.iam.gserviceaccount.com";
const runId = Date.now().toString(36);
const caller = `//bigquery.googleapis.com/projects/demo-salts/jobs/demo-salts:US.bquxjob_console_${runId}`;
let browser: Browser;
let auditor: Session;

const text = async (l: Locator) => ((await l.textContent()) ?? "").replace(/\s+/g, " ").trim();

/** A batch as BigQuery sends it, from the demo invoker (an unsigned token: the emulator reads its email). */
async function batch(sessionUser: string, n: number) {
  const url = `http://${functionsHost()}/demo-salts/us-central1/salts-pseudonymizeBatch`;
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${unsignedIdToken(INVOKER, url)}` },
    body: JSON.stringify({
      requestId: `console-${runId}-${n}`,
      caller,
      sessionUser,
      userDefinedContext: { mode: "event", field: "device_id" },
      calls: [["page_view", `device-${n}`, `user-${runId}`]],
    }),
  });
  expect(res.status).toBe(200);
}

beforeAll(async () => {
  browser = await launch();
  // Three batches of one job from two people: the page lists the job once per person.
  await batch(`ann-${runId}@example.com`, 1);
  await batch(`ann-${runId}@example.com`, 2);
  await batch(`ben-${runId}@example.com`, 3);
  auditor = await signedIn(browser, { auditor: true }, "bq-auditor");
});

afterAll(async () => {
  expect(auditor?.problems ?? [], "page errors or CSP violations").toEqual([]);
  await browser?.close();
});

describe("the BigQuery page", () => {
  it("when an auditor opens it from the navigation, then it shows the endpoint, the invokers and each job and session user once", async () => {
    const { page } = auditor;
    await page.getByRole("navigation", { name: "Sections" }).getByRole("link", { name: "BigQuery" }).click();
    await page.getByRole("heading", { level: 1, name: "BigQuery" }).waitFor();
    expect(await text(page.getByTestId("endpoint"))).toBe(
      "https://us-central1-demo-salts.cloudfunctions.net/salts-pseudonymizeBatch",
    );
    expect(await text(page.getByTestId("local-endpoint"))).toBe(
      `http://${functionsHost()}/demo-salts/us-central1/salts-pseudonymizeBatch`,
    );
    expect(await text(page.getByTestId("invokers"))).toBe(INVOKER);
    const rows = page.getByTestId("jobs-table").locator("tbody tr", { hasText: caller });
    await expect.poll(() => rows.count()).toBe(2);
    const people = (await rows.allTextContents()).map((r) => r.replace(/\s+/g, " "));
    expect(people.filter((r) => r.includes(`ann-${runId}@example.com`))).toHaveLength(1);
    expect(people.filter((r) => r.includes(`ben-${runId}@example.com`))).toHaveLength(1);
    for (const r of people) expect(r).toContain("event");
    expect(await axeProblems(page)).toEqual([]);
    await screenshots(page, "console-bigquery");
  });

  it("when it is read on a phone, then nothing overflows the viewport sideways", async () => {
    const { page } = auditor;
    await page.setViewportSize(PHONE);
    await openPage(page, "/bigquery", "BigQuery");
    await page.getByTestId("jobs-table").waitFor();
    expect(await sidewaysOverflow(page)).toEqual([]);
    expect(await axeProblems(page)).toEqual([]);
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  it("when the server does not offer salts-bigqueryInfo, then the page says so instead of failing", async () => {
    const { page } = auditor;
    await page.route("**/salts-bigqueryInfo", (route: Route) => {
      const cors = {
        "access-control-allow-origin": "*",
        "access-control-allow-headers": "*",
        "access-control-allow-methods": "POST, OPTIONS",
      };
      if (route.request().method() === "OPTIONS") return route.fulfill({ status: 204, headers: cors });
      return route.fulfill({
        status: 404,
        headers: { ...cors, "content-type": "application/json" },
        body: JSON.stringify({ error: { status: "NOT_FOUND", message: "Function does not exist" } }),
      });
    });
    await openPage(page, "/bigquery", "BigQuery");
    await page.getByTestId("not-available").waitFor();
    expect(await text(page.getByTestId("not-available"))).toContain("salts-bigqueryInfo");
    await page.unroute("**/salts-bigqueryInfo");
  });
});
