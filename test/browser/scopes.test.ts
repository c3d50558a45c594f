/// <reference lib="dom" />
import { readFileSync } from "node:fs";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call } from "../support/stack";
import { axeProblems, launch, openPage, PHONE, screenshots, signedIn, type Session } from "./harness";

let browser: Browser;
let admin: Session;
let auditor: Session;
const runId = Date.now().toString(36);
const scopeId = `partner-${runId}`;

const text = async (page: Page, testid: string) =>
  ((await page.getByTestId(testid).first().textContent()) ?? "").replace(/\s+/g, " ").trim();

/** A notice that contains `words`, allowing for the first call's cold start of a function's worker. */
const noticeSays = (page: Page, words: string) =>
  page.getByTestId("notice").filter({ hasText: words }).waitFor({ timeout: 150_000 });

/** The row of one scope in the scopes table. */
const row = (page: Page, id: string) => page.locator(`tr[data-scope="${id}"]`);

beforeAll(async () => {
  browser = await launch();
  admin = await signedIn(browser, { admin: true }, "scopes-admin");
  auditor = await signedIn(browser, { auditor: true }, "scopes-auditor");
});

afterAll(async () => {
  for (const s of [admin, auditor]) expect(s?.problems, "page errors or CSP violations").toEqual([]);
  await browser?.close();
});

describe("scopes page", () => {
  it("when an admin creates a scope, edits its consumers and rotates it, then the table follows each step", async () => {
    const { page } = admin;
    await openPage(page, "/scopes", "Scopes");
    const form = page.getByTestId("create-scope");
    await form.getByLabel(/Scope id/).fill(scopeId);
    await form.getByLabel("Description").fill("Partner A exports");
    await form.getByLabel("Rotate every (days)").fill("14");
    await form
      .getByLabel(/Consumers/)
      .fill(`bq-partner@demo-salts.iam.gserviceaccount.com\n${admin.user.uid}`);
    await form.getByLabel("Reason").fill("contract 12");
    await form.getByRole("button", { name: "Create scope" }).click();
    await noticeSays(page, `Created scope ${scopeId}`);
    await expect.poll(() => row(page, scopeId).getByTestId("scope-version").textContent()).toBe("1");
    expect(await row(page, scopeId).getByTestId("scope-consumers").textContent()).toContain(admin.user.uid);

    // The server agrees: the admin, listed as a consumer, now gets the scope's pseudonyms.
    const scoped = await call<{ pseudonymized: { email: string } }>(
      "pseudonymizeTest",
      { user_id: `u-${runId}`, data: { email: "a@b.c" }, scope: scopeId },
      { token: admin.user.token },
    );
    expect(scoped.result!.pseudonymized.email).toMatch(new RegExp(`^ps1\\.su\\.${scopeId}\\.1\\.`));

    await row(page, scopeId)
      .getByRole("button", { name: `Edit scope ${scopeId}` })
      .click();
    const edit = page.locator("#edit-scope");
    await edit.getByLabel(/Consumers/).fill("pipeline@demo-salts.iam.gserviceaccount.com");
    await edit.getByLabel("Reason").fill("admin leaves the scope");
    await screenshots(page, "scopes-edit-dialog");
    expect(await axeProblems(page)).toEqual([]);
    await edit.getByRole("button", { name: "Save" }).click();
    await noticeSays(page, `Updated scope ${scopeId}`);
    await expect
      .poll(() => row(page, scopeId).getByTestId("scope-consumers").textContent())
      .toContain("pipeline@demo-salts.iam.gserviceaccount.com");
    expect(await row(page, scopeId).getByTestId("scope-consumers").textContent()).not.toContain(
      admin.user.uid,
    );
    // Removed from the consumers, the admin is refused at once.
    const refused = await call(
      "pseudonymizeTest",
      { user_id: `u-${runId}`, data: { email: "a@b.c" }, scope: scopeId },
      { token: admin.user.token },
    );
    expect(refused.error?.status).toBe("PERMISSION_DENIED");

    await row(page, scopeId)
      .getByRole("button", { name: `Rotate scope ${scopeId}` })
      .click();
    const rotate = page.locator("#rotate-scope");
    await rotate.getByLabel("Reason").fill("partner asked");
    await rotate.getByRole("button", { name: "Rotate" }).click();
    await noticeSays(page, `Rotated scope ${scopeId} to version 2`);
    await expect.poll(() => row(page, scopeId).getByTestId("scope-version").textContent()).toBe("2");
    await screenshots(page, "scopes-admin");
  });

  it("when an auditor opens the scopes page, then it reads every scope and offers nothing to change", async () => {
    const { page } = auditor;
    await openPage(page, "/scopes", "Scopes");
    await row(page, scopeId).waitFor();
    expect(await page.getByTestId("read-only").count()).toBe(1);
    const buttons = await page.getByRole("button").allTextContents();
    expect(buttons.filter((b) => /edit|rotate|create|save/i.test(b))).toEqual([]);
    expect(await page.locator("input[name=reason], textarea").count()).toBe(0);
    await screenshots(page, "scopes-auditor");
  });

  it("when the scopes page is scanned with axe at desktop and phone width, then it has no serious or critical violation", async () => {
    const found: string[] = [];
    for (const s of [admin, auditor])
      for (const size of [{ width: 1280, height: 800 }, PHONE]) {
        await s.page.setViewportSize(size);
        await openPage(s.page, "/scopes", "Scopes");
        await row(s.page, scopeId).waitFor();
        found.push(...(await axeProblems(s.page)).map((p) => `${s.user.uid} at ${size.width}px: ${p}`));
      }
    await admin.page.setViewportSize({ width: 1280, height: 800 });
    expect(found).toEqual([]);
  });
});

describe("subject access", () => {
  it("when an admin runs the report on a user's page, then it shows each version's pseudonyms and downloads them as JSON and CSV", async () => {
    const uid = `subject-${runId}`;
    const data = { email: "subject@example.com" };
    const library: Record<number, string> = {};
    for (let v = 1; v <= 2; v++) {
      if (v === 2) await call("rotateUser", { user_id: uid, reason: "seed" }, { token: admin.user.token });
      const r = await call<{ pseudonymized: { email: string }; salt_version: number }>(
        "pseudonymizeTest",
        { user_id: uid, data },
        { token: admin.user.token },
      );
      // The dev endpoint's instance may serve its cached salt for a while after the rotation: wait it out.
      if (r.result!.salt_version !== v) {
        await expect
          .poll(
            async () =>
              (
                await call<{ salt_version: number }>(
                  "pseudonymizeTest",
                  { user_id: uid, data },
                  { token: admin.user.token },
                )
              ).result!.salt_version,
            { timeout: 90_000, interval: 2000 },
          )
          .toBe(v);
      }
      library[v] = (
        await call<{ pseudonymized: { email: string } }>(
          "pseudonymizeTest",
          { user_id: uid, data },
          { token: admin.user.token },
        )
      ).result!.pseudonymized.email;
    }
    const { page } = admin;
    await openPage(page, `/salts?user=${encodeURIComponent(uid)}`, "Salts");
    const panel = page.getByTestId("subject-access");
    await panel.getByLabel(/Identifiers/).fill("email=subject@example.com");
    await panel.getByLabel(/Event types/).fill("signup");
    await panel.getByLabel("Reason").fill("DSAR 2026-17");
    await panel.getByRole("button", { name: "Run report" }).click();
    // The first report starts the function's worker (a cold start can take a while on a busy machine).
    await page.getByTestId("report-table").waitFor({ timeout: 150_000 });
    expect(await text(page, "report-state")).toBe("active");
    const cells = await page.getByTestId("report-table").locator("tbody td.id").allTextContents();
    expect(cells).toEqual(expect.arrayContaining([library[1], library[2]]));
    await screenshots(page, "subject-access");
    expect(await axeProblems(page)).toEqual([]);

    const [json] = await Promise.all([
      page.waitForEvent("download"),
      page.getByTestId("download-json").click(),
    ]);
    expect(json.suggestedFilename()).toMatch(new RegExp(`^subject-report-${uid}-\\d{8}-\\d{6}Z\\.json$`));
    const report = JSON.parse(readFileSync((await json.path())!, "utf8")) as {
      user_id: string;
      versions: { version: number; pseudonyms: { email: string } }[];
    };
    expect(report.user_id).toBe(uid);
    expect(report.versions.map((v) => [v.version, v.pseudonyms.email])).toEqual([
      [2, library[2]],
      [1, library[1]],
    ]);

    const [csv] = await Promise.all([
      page.waitForEvent("download"),
      page.getByTestId("download-csv").click(),
    ]);
    expect(csv.suggestedFilename()).toMatch(/\.csv$/);
    const lines = readFileSync((await csv.path())!, "utf8")
      .trim()
      .split(/\r\n/);
    expect(lines[0]).toBe("salt,event_type,version,current,field,pseudonym");
    // Every cell quoted (the console's CSV guard quotes all cells, as the audit export does).
    expect(lines).toContain(`"user","","2","true","email","${library[2]}"`);
    expect(lines).toContain(`"user","","1","false","email","${library[1]}"`);
  });

  it("when the subject was erased, then the report says so with the time, and lists no pseudonym", async () => {
    const uid = `gone-${runId}`;
    await call("rotateUser", { user_id: uid, force: true, reason: "seed" }, { token: admin.user.token });
    await call("erase", { user_id: uid, reason: "GDPR art. 17" }, { token: admin.user.token });
    const { page } = admin;
    await openPage(page, `/salts?user=${encodeURIComponent(uid)}`, "Salts");
    await page.getByTestId("no-salt").waitFor();
    const panel = page.getByTestId("subject-access");
    await panel.getByLabel(/Identifiers/).fill("email=gone@example.com");
    await panel.getByLabel("Reason").fill("DSAR after erasure");
    await panel.getByRole("button", { name: "Run report" }).click();
    await page.getByTestId("subject-report").waitFor({ timeout: 150_000 });
    expect(await text(page, "report-state")).toBe("erased");
    expect(await text(page, "report-erased-at")).toMatch(/UTC$/);
    expect(await page.getByTestId("report-table").count()).toBe(0);
    await screenshots(page, "subject-access-erased");
  });

  it("when an auditor opens a user's page, then there is no subject access action", async () => {
    const { page } = auditor;
    await openPage(page, `/salts?user=${encodeURIComponent(`subject-${runId}`)}`, "Salts");
    await page.getByTestId("salt-version").waitFor();
    expect(await page.getByTestId("subject-access").count()).toBe(0);
  });
});
