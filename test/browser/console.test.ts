/// <reference lib="dom" />
import { readFileSync } from "node:fs";
import type { Browser, Locator, Page, Route } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminFirestore } from "../support/firestore";
import { seedSalts } from "../support/seed";
import { call, functionsHost, localSecrets } from "../support/stack";
import {
  axeProblems,
  consoleUrl,
  launch,
  openPage,
  overviewReady,
  PHONE,
  screenshots,
  signedIn,
  type Session,
} from "./harness";

let browser: Browser;
let admin: Session;
const sessions: Session[] = [];
const runId = Date.now().toString(36);

/** Whether the server offers a callable (the functions emulator answers 404 "does not exist" otherwise). */
async function offers(name: string, data: unknown, token: string): Promise<boolean> {
  const res = await fetch(`http://${functionsHost()}/demo-salts/us-central1/salts-${name}`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify({ data }),
  });
  const raw = await res.text();
  return !(res.status === 404 && /does not exist/.test(raw));
}

/** Visible text with runs of whitespace collapsed. */
async function text(locator: Locator): Promise<string> {
  return ((await locator.textContent()) ?? "").replace(/\s+/g, " ").trim();
}

function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ",") {
      row.push(cell);
      cell = "";
    } else if (ch === "\n") {
      row.push(cell.replace(/\r$/, ""));
      rows.push(row);
      row = [];
      cell = "";
    } else cell += ch;
  }
  if (cell || row.length) {
    row.push(cell);
    rows.push(row);
  }
  return rows;
}

async function fakeError(page: Page, fn: string, status: number, error: object) {
  await page.route(`**/salts-${fn}`, (route: Route) => {
    const cors = {
      "access-control-allow-origin": "*",
      "access-control-allow-headers": "*",
      "access-control-allow-methods": "POST, OPTIONS",
    };
    if (route.request().method() === "OPTIONS") return route.fulfill({ status: 204, headers: cors });
    return route.fulfill({
      status,
      headers: { ...cors, "content-type": "application/json" },
      body: JSON.stringify({ error }),
    });
  });
}

async function fakeAnswer(page: Page, fn: string, result: object) {
  await page.route(`**/salts-${fn}`, (route: Route) => {
    const cors = {
      "access-control-allow-origin": "*",
      "access-control-allow-headers": "*",
      "access-control-allow-methods": "POST, OPTIONS",
    };
    if (route.request().method() === "OPTIONS") return route.fulfill({ status: 204, headers: cors });
    return route.fulfill({
      status: 200,
      headers: { ...cors, "content-type": "application/json" },
      body: JSON.stringify({ result }),
    });
  });
}

beforeAll(async () => {
  browser = await launch();
  admin = await signedIn(browser, { admin: true }, "console-admin");
  sessions.push(admin);
  // Salts the admin flows work on.
  for (const id of [`alice-${runId}`, `bob-${runId}`, `user/with.odd-chars-${runId}-${"x".repeat(60)}`]) {
    const r = await call(
      "rotateUser",
      { user_id: id, force: true, reason: "browser test seed" },
      { token: admin.user.token },
    );
    expect((r.result as any)?.salt.version).toBe(1);
  }
  for (const t of ["page_view", "signup", "purchase"]) {
    await call(
      "rotateGlobal",
      { event_type: t, force: true, reason: "browser test seed" },
      { token: admin.user.token },
    );
  }
});

afterAll(async () => {
  for (const s of sessions) expect(s.problems, "page errors or CSP violations").toEqual([]);
  await browser?.close();
});

describe("hosting", () => {
  it("when Hosting serves any console path, then it answers the SPA with strict security headers and no inline script", async () => {
    const res = await fetch(`${consoleUrl()}/audit/some/deep/link`);
    expect(res.status).toBe(200);
    const csp = res.headers.get("content-security-policy") ?? "";
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("default-src 'none'");
    expect(csp).toMatch(/script-src 'self'/);
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval/);
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(res.headers.get("x-frame-options")).toBe("DENY");
    const html = await res.text();
    expect(html).toContain("<salts-console>");
    // Every script is a file: no inline script for the CSP to allow.
    for (const tag of html.match(/<script\b[^>]*>/g) ?? []) expect(tag).toMatch(/\ssrc=/);
    const init = (await (await fetch(`${consoleUrl()}/__/firebase/init.json`)).json()) as {
      projectId: string;
    };
    expect(init.projectId).toBe("demo-salts");
  });
});

describe("admin", () => {
  it("when an admin signs in, then the overview shows the status numbers and the due-date forecast", async () => {
    const { page } = admin;
    await openPage(page, "/overview", "Overview");
    await overviewReady(page);
    const status = (await call("status", {}, { token: admin.user.token })).result as any;
    await expect.poll(() => text(page.getByTestId("users-total"))).toBe(String(status.users.total));
    expect(await text(page.getByTestId("globals-total"))).toBe(String(status.globals.total));
    expect(await text(page.getByTestId("intervals"))).toMatch(
      new RegExp(
        `${status.rotation_intervals.user_days}\\s*d\\s*/\\s*${status.rotation_intervals.global_days}\\s*d`,
      ),
    );
    expect(await text(page.getByTestId("role"))).toBe("admin");
    if (await offers("forecast", { days: 90 }, admin.user.token)) {
      const forecast = (await call("forecast", { days: 90, kind: "all" }, { token: admin.user.token }))
        .result as any;
      const total = forecast.buckets.reduce((s: number, b: any) => s + b.users + b.globals, 0);
      await page.locator(".chart-canvas canvas").first().waitFor();
      expect(await text(page.getByTestId("forecast-summary"))).toContain(
        total === 0 ? "No salt comes due" : `${total.toLocaleString("en-US")} salts come due`,
      );
      const overdue = forecast.overdue.users + forecast.overdue.globals;
      expect(await text(page.getByTestId("overdue"))).toMatch(new RegExp(`^\\s*${overdue}\\s+overdue`));
    } else {
      await expect.poll(() => text(page.getByTestId("not-available"))).toContain("salts-forecast");
    }
    await screenshots(page, "overview");
  });

  it("when the server answers a forecast, then the chart draws it with a text summary and a table of busy days", async () => {
    // The contract's answer, served to the page as the callable's response: this checks the chart itself,
    // whatever the backend under test offers.
    const { page } = admin;
    const start = Date.UTC(2026, 0, 1);
    const buckets = Array.from({ length: 90 }, (_, i) => ({
      date: new Date(start + i * 86_400_000).toISOString().slice(0, 10),
      users: i === 10 ? 7 : i % 30 === 0 ? 2 : 0,
      globals: i === 10 ? 1 : 0,
    }));
    await fakeAnswer(page, "forecast", {
      buckets,
      overdue: { users: 4, globals: 1 },
      generated_at: new Date(start).toISOString(),
      correlation_id: "corr-forecast-1",
    });
    await openPage(page, "/overview", "Overview");
    await page.locator(".chart-canvas canvas").first().waitFor();
    expect(await text(page.getByTestId("forecast-summary"))).toBe(
      "14 salts come due in the next 90 days; the busiest day is 2026-01-11 with 8.",
    );
    expect(await page.getByTestId("forecast-chart").getAttribute("aria-label")).toContain(
      "14 salts come due",
    );
    expect(await text(page.getByTestId("overdue"))).toBe("5 overdue now (4 user, 1 global)");
    // The canvas is not blank: some pixels carry the users' bar colour.
    const painted = await page.evaluate(() => {
      const c = document.querySelector<HTMLCanvasElement>(".chart-canvas canvas")!;
      const d = c.getContext("2d")!.getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 0; i < d.length; i += 4) if (d[i] === 0x1d && d[i + 1] === 0x4e && d[i + 2] === 0xd8) n++;
      return n;
    });
    expect(painted).toBeGreaterThan(50);
    await page.getByText("Show the 4 days with salts due as a table").click();
    const rows = page.locator(".chart-table tbody tr");
    expect(await rows.count()).toBe(4);
    expect(await text(rows.nth(1))).toBe("2026-01-11 7 1");
    await screenshots(page, "overview-forecast");
    await page.unroute("**/salts-forecast");
  });

  it("when an admin rotates a user's salt with a reason, then the version grows and the audit shows the reason", async () => {
    const { page } = admin;
    const id = `alice-${runId}`;
    await openPage(page, `/salts?user=${encodeURIComponent(id)}`, "Salts");
    await expect.poll(() => text(page.getByTestId("salt-version"))).toBe("1");
    await page.getByLabel("Reason", { exact: true }).first().fill(`ticket OPS-${runId}`);
    await page.getByRole("button", { name: "Rotate salt" }).click();
    await expect.poll(() => text(page.getByTestId("notice"))).toContain("now version 2");
    expect(await text(page.getByTestId("salt-version"))).toBe("2");
    await expect.poll(() => text(page.getByTestId("user-audit"))).toContain(`ticket OPS-${runId}`);
    const server = (await call("audit", { user_id: id }, { token: admin.user.token })).result as any;
    expect(server.salt.version).toBe(2);
    expect(await page.getByTestId("history-table").locator("tbody tr").count()).toBe(server.history.length);
    await screenshots(page, "salts");
  });

  it("when an admin looks up a user with a very long id, then the id wraps inside the page", async () => {
    const { page } = admin;
    const id = `user/with.odd-chars-${runId}-${"x".repeat(60)}`;
    await openPage(page, `/salts?user=${encodeURIComponent(id)}`, "Salts");
    await expect.poll(() => text(page.getByTestId("salt-version"))).toBe("1");
    await page.setViewportSize(PHONE);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await page.setViewportSize({ width: 1280, height: 800 });
    await screenshots(page, "salts-long-id");
  });

  it("when an admin types the user id and erases, then the salts are gone and the lookup finds none", async () => {
    const { page } = admin;
    const id = `bob-${runId}`;
    await openPage(page, `/salts?user=${encodeURIComponent(id)}`, "Salts");
    await expect.poll(() => text(page.getByTestId("salt-version"))).toBe("1");
    const erase = page.getByRole("button", { name: "Erase salts" });
    await page.locator("#erase-reason").fill("GDPR request (browser test)");
    await page.locator("#erase-confirm").fill("bob-wrong");
    expect(await erase.isDisabled()).toBe(true);
    await page.locator("#erase-confirm").fill(id);
    expect(await erase.isEnabled()).toBe(true);
    await erase.click();
    await expect.poll(() => text(page.getByTestId("notice"))).toContain(`Erased the salts of ${id}`);
    const after = await call("audit", { user_id: id }, { token: admin.user.token });
    expect(after.error?.status).toBe("NOT_FOUND");
    await page.getByRole("button", { name: "Look up" }).click();
    await page.getByTestId("no-salt").waitFor();
  });

  it("when an admin rotates a global salt, then its version grows", async () => {
    const { page } = admin;
    await openPage(page, "/salts", "Salts");
    const before = (
      await call("rotateGlobal", { event_type: "signup", force: true }, { token: admin.user.token })
    ).result as any;
    if (await offers("listSalts", { kind: "global" }, admin.user.token)) {
      const row = page.getByTestId("globals-table").locator("tr", { hasText: "signup" });
      await row.getByRole("button", { name: "Rotate global salt signup" }).click();
      await page.locator("#rg-reason").fill("browser test");
      await page.locator("dialog").getByRole("button", { name: "Rotate" }).click();
    } else {
      await page.getByTestId("not-available").first().waitFor();
      await page.getByLabel("Event type").fill("signup");
      await page.locator("#g-reason").fill("browser test");
      await page.getByRole("button", { name: "Rotate global salt" }).click();
    }
    await expect
      .poll(() => text(page.getByTestId("notice")))
      .toContain(`now version ${before.salt.version + 1}`);
  });

  it("when an admin plans a dry run and then starts the batch, then the plan counts the due salts and the progress bar reaches done", async () => {
    const { page } = admin;
    // More due salts than ROTATE_INLINE_LIMIT (100 in .env.local), so the job fans out to the task queue.
    const ids = Array.from({ length: 130 }, (_, i) => `due-${runId}-${i}`);
    await seedSalts(adminFirestore(), localSecrets().SALT_ENCRYPTION_KEY!, "user", ids, 200);
    const status = (await call("status", {}, { token: admin.user.token })).result as any;
    const due = status.users.due + status.globals.due;
    expect(due).toBeGreaterThanOrEqual(130);
    await openPage(page, "/jobs", "Jobs");
    await page.getByRole("button", { name: "Plan (dry run)" }).click();
    await expect
      .poll(() => text(page.getByTestId("plan")))
      .toContain(`${due.toLocaleString("en-US")} salts would rotate`);
    const stillDue = (await call("status", {}, { token: admin.user.token })).result as any;
    expect(stillDue.users.due + stillDue.globals.due).toBe(due);
    await page.getByRole("button", { name: "Start rotation" }).click();
    await page.getByTestId("job-progress").waitFor();
    await expect
      .poll(() => text(page.getByTestId("job-state")), { timeout: 240_000, interval: 500 })
      .toBe("done");
    const bar = page.getByTestId("job-bar");
    expect(await bar.getAttribute("value")).toBe(await bar.getAttribute("max"));
    expect(await text(page.getByTestId("job-counts"))).toMatch(new RegExp(`${due} rotated, 0 failed`));
    const after = (await call("status", {}, { token: admin.user.token })).result as any;
    expect(after.users.due + after.globals.due).toBe(0);
    if (await offers("listJobs", {}, admin.user.token)) {
      const jobId = await text(page.getByTestId("job-progress").locator("h2 .mono"));
      const row = page.getByTestId("jobs-table").locator("tr", { hasText: jobId });
      await expect.poll(() => text(row)).toContain("done");
      expect(await text(row)).toContain(`${due} / ${due}`);
    }
    await screenshots(page, "jobs");
  }, 360_000);

  it("when an admin filters the audit log and exports it, then the table and the CSV hold exactly the filtered entries", async () => {
    const { page } = admin;
    const id = `alice-${runId}`;
    // A reason a spreadsheet would run as a formula is exported inert.
    await call("rotateUser", { user_id: id, reason: "=1+1 (formula drill)" }, { token: admin.user.token });
    await openPage(page, "/audit", "Audit log");
    await page.getByLabel("Target id").fill(id);
    await page.getByLabel("Operation").fill("rotate_user");
    await page.getByRole("button", { name: "Apply filters" }).click();
    const server = (
      await call("auditLog", { target_id: id, operation: "rotate_user" }, { token: admin.user.token })
    ).result as any;
    expect(server.entries.length).toBeGreaterThanOrEqual(2);
    await expect
      .poll(() => page.getByTestId("audit-table").locator("tbody tr").count())
      .toBe(server.entries.length);
    await screenshots(page, "audit");
    const [download] = await Promise.all([page.waitForEvent("download"), page.getByTestId("export").click()]);
    expect(download.suggestedFilename()).toMatch(/^audit-log-\d{8}-\d{6}Z\.csv$/);
    const rows = parseCsv(readFileSync((await download.path())!, "utf8"));
    expect(rows[0]).toEqual([
      "id",
      "at",
      "operation",
      "result",
      "target_kind",
      "target_id",
      "actor_uid",
      "actor_via",
      "reason",
      "rotation_id",
      "correlation_id",
      "details",
    ]);
    const body = rows.slice(1);
    expect(body.map((r) => r[0]).sort()).toEqual(server.entries.map((e: any) => e.id).sort());
    for (const r of body) {
      expect(r[2]).toBe("rotate_user");
      expect(r[5]).toBe(id);
    }
    expect(body.map((r) => r[8])).toContain(`ticket OPS-${runId}`);
    expect(body.map((r) => r[8])).toContain("'=1+1 (formula drill)");
    await expect
      .poll(() => text(page.getByTestId("export-note")))
      .toContain(`Exported ${server.entries.length} entries`);
  });

  it("when an admin reloads the configuration, then the console confirms it with the intervals in force", async () => {
    const { page } = admin;
    await openPage(page, "/settings", "Settings");
    await page.getByTestId("user-days").waitFor();
    await page.getByRole("button", { name: "Reload config" }).click();
    await expect.poll(() => text(page.getByTestId("reloaded"))).toContain("Configuration reloaded");
    const status = (await call("status", {}, { token: admin.user.token })).result as any;
    expect(await text(page.getByTestId("user-days"))).toBe(
      `every ${status.rotation_intervals.user_days} days`,
    );
    await screenshots(page, "settings");
    // Newer servers reschedule every stored due date after a reload; the console links to that job.
    const reschedule = page.getByTestId("reschedule");
    if ((await reschedule.count()) > 0) {
      await reschedule.getByRole("link").click();
      await page.getByRole("heading", { level: 1, name: "Jobs" }).waitFor();
      await expect
        .poll(() => text(page.getByTestId("job-state")), { timeout: 240_000, interval: 500 })
        .toBe("done");
      expect(await text(page.getByTestId("job-progress").locator("h2"))).toMatch(/^Reschedule job /);
    }
  }, 360_000);
});

describe("newer callables, drawn from served answers", () => {
  it("when an admin plans and starts a rewrap, then the dry run shows the total and the progress bar follows the job to done", async () => {
    const { page } = admin;
    let polls = 0;
    const cors = { "access-control-allow-origin": "*", "access-control-allow-headers": "*" };
    const reply = (route: Route, result: object) =>
      route.request().method() === "OPTIONS"
        ? route.fulfill({ status: 204, headers: cors })
        : route.fulfill({
            status: 200,
            headers: { ...cors, "content-type": "application/json" },
            body: JSON.stringify({ result }),
          });
    await page.route("**/salts-rewrap", (route) => {
      const dry =
        route.request().method() === "POST" && JSON.parse(route.request().postData() ?? "{}").data?.dry_run;
      return reply(route, {
        job_id: "job_rewrap_1",
        dry_run: !!dry,
        total: 40,
        queued: dry ? 0 : 40,
        mode: "fanout",
        correlation_id: "corr-rw",
      });
    });
    await page.route("**/salts-job", (route) => {
      if (route.request().method() === "POST") polls++;
      const done = Math.min(40, polls * 15);
      return reply(route, {
        job_id: "job_rewrap_1",
        type: "rewrap",
        state: done >= 40 ? "done" : "running",
        total: 40,
        processed: done,
        rotated: 0,
        rewrapped: done,
        failed: 0,
        skipped: 0,
        started_at: "2026-11-25T10:00:00Z",
        ...(done >= 40 ? { finished_at: "2026-11-25T10:00:05Z" } : {}),
        correlation_id: "corr-job",
      });
    });
    await openPage(page, "/jobs", "Jobs");
    await page.getByRole("button", { name: "Plan rewrap (dry run)" }).click();
    await expect
      .poll(() => text(page.getByTestId("rewrap-plan")))
      .toContain("40 salt versions would be re-encrypted");
    await page.getByRole("button", { name: "Start rewrap" }).click();
    await expect.poll(() => text(page.getByTestId("job-state"))).toBe("done");
    expect(polls).toBeGreaterThanOrEqual(3);
    expect(await text(page.getByTestId("job-counts"))).toMatch(/^40 re-encrypted, 0 failed of 40\./);
    expect(await text(page.getByTestId("job-progress").locator("h2"))).toContain("Rewrap job job_rewrap_1");
    await page.unroute("**/salts-rewrap");
    await page.unroute("**/salts-job");
  });

  it("when the integrity check finds a break, then the console lists it with the target and the problem", async () => {
    const { page } = admin;
    await fakeAnswer(page, "auditVerify", {
      intact: false,
      checked_entries: 120,
      checked_targets: 7,
      breaks: [
        {
          entry_id: "a_000042",
          target: { kind: "user", id: "mallory" },
          problem: "entry changed after it was written",
        },
      ],
      next_cursor: null,
      correlation_id: "corr-verify-1",
    });
    await openPage(page, "/audit", "Audit log");
    await page.getByTestId("verify").click();
    const result = page.getByTestId("verify-result");
    await expect.poll(() => text(result)).toContain("1 break(s) found");
    expect(await text(result)).toContain("Checked 120 entries over 7 targets");
    expect(await text(page.locator("table", { hasText: "a_000042" }))).toContain(
      "user:mallory a_000042 entry changed after it was written",
    );
    await page.unroute("**/salts-auditVerify");
  });
});

describe("audit filters the server may not offer yet", () => {
  it("when the audit log is filtered by result, then it shows only that result, or says the server cannot filter by it yet", async () => {
    const { page } = admin;
    // A refused mutation leaves an audit entry with result "error".
    const refused = await call("rotateUser", { user_id: `nobody-${runId}` }, { token: admin.user.token });
    expect(refused.error?.status).toBe("NOT_FOUND");
    const probe = await call<any>("auditLog", { result: "error", limit: 50 }, { token: admin.user.token });
    await openPage(page, "/audit", "Audit log");
    await page.getByTestId("audit-table").waitFor();
    await page.getByLabel("Result").selectOption("error");
    await page.getByRole("button", { name: "Apply filters" }).click();
    if (probe.error) {
      expect(probe.error.status).toBe("INVALID_ARGUMENT");
      const notice = page.getByTestId("filter-unsupported");
      await expect.poll(() => text(notice)).toContain("cannot filter by result or time yet");
      expect(await text(notice.getByTestId("correlation-id"))).toMatch(/^[A-Za-z0-9][A-Za-z0-9._:-]{5,127}$/);
    } else {
      const expected = probe.result.entries.length;
      expect(expected).toBeGreaterThan(0);
      const badges = page.getByTestId("audit-table").locator("tbody tr td:nth-child(4) .badge");
      await expect
        .poll(async () => {
          const shown = await badges.allTextContents();
          return shown.length === expected && shown.every((b) => b.trim() === "error");
        })
        .toBe(true);
    }
  });
});

describe("newer callables on the real server (when it offers them)", () => {
  it("when an admin runs a real rewrap, then the dry run counts the salt versions and the job reaches done", async () => {
    const { page } = admin;
    if (!(await offers("rewrap", { dry_run: true }, admin.user.token))) {
      await openPage(page, "/jobs", "Jobs");
      await page.getByRole("button", { name: "Start rewrap" }).click();
      await expect.poll(() => text(page.getByTestId("not-available"))).toContain("salts-rewrap");
      return;
    }
    await openPage(page, "/jobs", "Jobs");
    await page.getByRole("button", { name: "Plan rewrap (dry run)" }).click();
    await expect
      .poll(() => text(page.getByTestId("rewrap-plan")))
      .toMatch(/^Dry run: [\d,]+ salt versions would be re-encrypted/);
    await page.getByRole("button", { name: "Start rewrap" }).click();
    await expect
      .poll(() => text(page.getByTestId("job-state")), { timeout: 240_000, interval: 500 })
      .toBe("done");
    expect(await text(page.getByTestId("job-progress").locator("h2"))).toMatch(/^Rewrap job /);
    expect(await text(page.getByTestId("job-counts"))).toMatch(/ 0 failed of /);
  }, 360_000);

  it("when the whole audit trail is checked on the real server, then the console reports it intact", async () => {
    const { page } = admin;
    await openPage(page, "/audit", "Audit log");
    await page.getByTestId("verify").click();
    if (!(await offers("auditVerify", { limit: 1 }, admin.user.token))) {
      await expect.poll(() => text(page.getByTestId("not-available"))).toContain("salts-auditVerify");
      return;
    }
    const result = page.getByTestId("verify-result");
    await expect
      .poll(() => text(result), { timeout: 60_000 })
      .toMatch(/^Intact Checked [\d,]+ entries over [\d,]+ targets/);
  });
});

describe("errors", () => {
  it("when the server refuses a call, then the error is shown in plain words with its correlation id", async () => {
    const { page } = admin;
    await openPage(page, "/jobs", "Jobs");
    await page.getByLabel("Job id").fill("job_that_does_not_exist");
    await page.getByRole("button", { name: "Follow" }).click();
    const error = page.getByTestId("job-progress").getByTestId("error");
    await error.waitFor();
    expect(await text(error)).toContain("Not found");
    const correlation = await text(error.getByTestId("correlation-id"));
    expect(correlation).toMatch(/^[A-Za-z0-9][A-Za-z0-9._:-]{5,127}$/);
    await screenshots(page, "error");
  });

  it("when storage is unavailable, then the console says nothing was done and that retrying is safe", async () => {
    const { page } = admin;
    await fakeError(page, "status", 503, {
      status: "UNAVAILABLE",
      message: "Storage is unreachable",
      details: { correlation_id: "corr-unavailable-1" },
    });
    await openPage(page, "/overview", "Overview");
    const error = page.getByTestId("error").first();
    await error.waitFor();
    const shown = await text(error);
    expect(shown).toContain("The service is unavailable");
    expect(shown).toContain("did nothing");
    expect(shown).toContain("safe to try again");
    expect(await text(error.getByTestId("correlation-id"))).toBe("corr-unavailable-1");
    await page.unroute("**/salts-status");
    await error.getByRole("button", { name: "Retry" }).click();
    await overviewReady(page);
  });

  it("when the rate limit is hit, then the console says when to retry", async () => {
    const { page } = admin;
    await fakeError(page, "status", 429, {
      status: "RESOURCE_EXHAUSTED",
      message: "Rate limit of 60 calls per minute reached",
      details: { retry_after_seconds: 42, correlation_id: "corr-rate-1" },
    });
    await openPage(page, "/overview", "Overview");
    const error = page.getByTestId("error").first();
    await error.waitFor();
    expect(await text(error)).toContain("Try again in 42 seconds");
    expect(await text(error.getByTestId("correlation-id"))).toBe("corr-rate-1");
    await page.unroute("**/salts-status");
  });

  it("when a mutation times out, then the console says the outcome is unknown and retries with the same request id", async () => {
    const { page } = admin;
    const id = `alice-${runId}`;
    await openPage(page, `/salts?user=${encodeURIComponent(id)}`, "Salts");
    await page.getByTestId("salt-version").waitFor();
    const bodies: any[] = [];
    await page.route("**/salts-rotateUser", async (route) => {
      if (route.request().method() === "POST")
        bodies.push(JSON.parse(route.request().postData() ?? "{}").data);
      if (bodies.length === 1 && route.request().method() === "POST") {
        return route.fulfill({
          status: 504,
          headers: { "access-control-allow-origin": "*", "content-type": "application/json" },
          body: JSON.stringify({
            error: {
              status: "DEADLINE_EXCEEDED",
              message: "Deadline exceeded",
              details: { correlation_id: "corr-deadline-1" },
            },
          }),
        });
      }
      return route.continue();
    });
    await page.locator("#rotate-reason").fill("timeout drill");
    await page.getByRole("button", { name: "Rotate salt" }).click();
    const error = page.getByTestId("error").first();
    await error.waitFor();
    expect(await text(error)).toContain("outcome is unknown");
    await error.getByRole("button", { name: "Retry" }).click();
    await expect.poll(() => text(page.getByTestId("notice"))).toContain("now version");
    // The retry re-sends the very same request: same request_id. A server that predates request_id refuses
    // the field (invalid-argument, nothing done), and the console then sends the request once more without it.
    expect(bodies[0].request_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(bodies[1]).toEqual(bodies[0]);
    expect(bodies.length).toBeLessThanOrEqual(3);
    if (bodies.length === 3) {
      const { request_id: _id, ...rest } = bodies[0];
      expect(bodies[2]).toEqual(rest);
    }
    await page.unroute("**/salts-rotateUser");
  });
});

describe("auditor", () => {
  it("when an auditor signs in, then every page reads but no page offers a mutating control", async () => {
    const auditor = await signedIn(browser, { auditor: true }, "console-auditor");
    sessions.push(auditor);
    const { page } = auditor;
    expect(await text(page.getByTestId("role"))).toBe("auditor");
    await overviewReady(page);
    const mutating = /rotate|erase|start|reload|create|plan|rewrap/i;
    for (const [path, heading] of [
      ["/overview", "Overview"],
      [`/salts?user=${encodeURIComponent(`alice-${runId}`)}`, "Salts"],
      ["/jobs", "Jobs"],
      ["/audit", "Audit log"],
      ["/settings", "Settings"],
    ] as const) {
      await openPage(page, path, heading);
      await page.waitForLoadState("networkidle");
      if (heading === "Salts") await page.getByTestId("salt-version").waitFor();
      const buttons = await page.getByRole("button").allTextContents();
      expect(
        buttons.filter((b) => mutating.test(b)),
        `${path} buttons: ${buttons.join(" | ")}`,
      ).toEqual([]);
      expect(await page.locator("input[name=reason], input[name=confirm]").count()).toBe(0);
      await screenshots(page, `auditor-${heading.toLowerCase().replace(/ /g, "-")}`);
    }
  });
});

describe("accessibility", () => {
  it("when every page is scanned with axe at desktop and phone width, then none has a serious or critical violation", async () => {
    const page = await (await browser.newContext()).newPage();
    await page.goto(`${consoleUrl()}/`);
    await page.getByLabel("Email").waitFor();
    const found: string[] = [];
    found.push(...(await axeProblems(page)).map((p) => `sign-in: ${p}`));
    await screenshots(page, "signin");
    await page.context().close();
    for (const size of [{ width: 1280, height: 800 }, PHONE]) {
      await admin.page.setViewportSize(size);
      for (const [path, heading] of [
        ["/overview", "Overview"],
        [`/salts?user=${encodeURIComponent(`alice-${runId}`)}`, "Salts"],
        ["/jobs", "Jobs"],
        ["/audit", "Audit log"],
        ["/settings", "Settings"],
      ] as const) {
        await openPage(admin.page, path, heading);
        await admin.page.waitForLoadState("networkidle");
        found.push(...(await axeProblems(admin.page)).map((p) => `${path} at ${size.width}px: ${p}`));
      }
    }
    await admin.page.setViewportSize({ width: 1280, height: 800 });
    expect(found).toEqual([]);
  });

  it("when using only the keyboard, then the skip link and the navigation reach every page", async () => {
    const { page } = admin;
    await openPage(page, "/overview", "Overview");
    await page.keyboard.press("Tab");
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe("Skip to content");
    const labels: string[] = [];
    for (let i = 0; i < 12 && labels.length < 5; i++) {
      await page.keyboard.press("Tab");
      const t = await page.evaluate(() =>
        document.activeElement?.closest("nav.sidenav") ? document.activeElement.textContent : null,
      );
      if (t) labels.push(t.trim());
    }
    expect(labels).toEqual(["Overview", "Salts", "Jobs", "Audit log", "Settings"]);
    await page.keyboard.press("Shift+Tab");
    await page.keyboard.press("Enter");
    await page.getByRole("heading", { level: 1, name: "Audit log" }).waitFor();
    expect(await page.evaluate(() => document.activeElement?.tagName)).toBe("H1");
  });
});
