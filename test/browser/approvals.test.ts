/// <reference lib="dom" />
import type { Browser, Locator } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminAuth, call, createUser } from "../support/stack";
import {
  axeProblems,
  DESKTOP,
  launch,
  openPage,
  PHONE,
  screenshots,
  sidewaysOverflow,
  signedIn,
  type Session,
} from "./harness";

let browser: Browser;
let a: Session;
let b: Session;
let auditor: Session;
const sessions: Session[] = [];
const runId = Date.now().toString(36);
const subject = (n: number) => `dual-browser-${runId}-${n}`;

async function text(locator: Locator): Promise<string> {
  return ((await locator.textContent()) ?? "").replace(/\s+/g, " ").trim();
}

/** The request a page lists for `userId` (an erase), by its request text. */
const requestFor = (s: Session, userId: string) => s.page.getByTestId("approval").filter({ hasText: userId });

beforeAll(async () => {
  browser = await launch();
  [a, b, auditor] = [
    await signedIn(browser, { admin: true }, "dual-a"),
    await signedIn(browser, { admin: true }, "dual-b"),
    await signedIn(browser, { auditor: true }, "dual-auditor"),
  ];
  sessions.push(a, b, auditor);
  for (const n of [1, 2]) {
    const r = await call("rotateUser", { user_id: subject(n), force: true }, { token: a.user.token });
    expect((r.result as any)?.salt.version, r.raw).toBe(1);
  }
  const set = await call(
    "setApprovals",
    { operations: ["erase"], reason: "browser test" },
    { token: a.user.token },
  );
  expect((set.result as any)?.operations, set.raw).toEqual(["erase"]);
}, 600_000);

afterAll(async () => {
  // No guards left for the other browser files (removing one needs the second admin).
  const off = await call(
    "setApprovals",
    { operations: [], reason: "browser test cleanup" },
    { token: a.user.token },
  );
  const id = (off.result as any)?.pending_approval?.approval_id;
  if (id)
    await call(
      "approve",
      { approval_id: id, decision: "approve", reason: "cleanup" },
      { token: b.user.token },
    );
  await new Promise((r) => setTimeout(r, 2500));
  for (const s of sessions) expect(s.problems, "page errors or CSP violations").toEqual([]);
  await browser?.close();
}, 300_000);

describe("dual control in the console", () => {
  it("when an admin erases under dual control, then the console says it was sent for approval and the nav counts it", async () => {
    const { page } = a;
    await openPage(page, `/salts?user=${encodeURIComponent(subject(1))}`, "Salts");
    await expect.poll(() => text(page.getByTestId("salt-version"))).toBe("1");
    await page.locator("#erase-reason").fill("GDPR request (browser, four eyes)");
    await page.locator("#erase-confirm").fill(subject(1));
    await page.getByRole("button", { name: "Erase salts" }).click();
    const pending = page.getByTestId("pending-approval");
    await expect.poll(() => text(pending)).toContain("Sent for approval");
    expect(await text(pending)).toContain("Erase needs a second admin");
    await expect.poll(() => text(page.getByTestId("approvals-badge"))).toMatch(/^1\s*pending$/);
    // Nothing happened yet.
    expect(
      ((await call("audit", { user_id: subject(1) }, { token: a.user.token })).result as any)?.salt.version,
    ).toBe(1);
    await screenshots(page, "approvals-sent");
  });

  it("when the admin who asked opens Approvals, then the request waits and offers no decision", async () => {
    const { page } = a;
    await openPage(page, "/approvals", "Approvals");
    const item = requestFor(a, subject(1));
    await expect
      .poll(() => text(item.getByTestId("waiting")))
      .toContain("you cannot decide your own request");
    expect(await item.getByRole("button", { name: "Approve" }).count()).toBe(0);
    expect(await axeProblems(page)).toEqual([]);
  });

  it("when another admin approves with a reason in the browser, then the erase runs once and the result is shown", async () => {
    const { page } = b;
    await openPage(page, "/approvals", "Approvals");
    const item = requestFor(b, subject(1));
    await item.getByLabel("Reason for your decision").fill("ticket checked (browser)");
    await screenshots(page, "approvals-pending");
    expect(await axeProblems(page)).toEqual([]);
    // On a phone, with the pending badge in the nav, nothing sticks out sideways.
    await page.setViewportSize(PHONE);
    expect(await page.getByTestId("approvals-badge").count()).toBe(1);
    expect(await sidewaysOverflow(page)).toEqual([]);
    // The nav is one scrolling row there: the current page's link is scrolled into view.
    await expect
      .poll(async () => {
        const box = await page.locator('.sidenav a[aria-current="page"]').boundingBox();
        return box !== null && box.x >= 0 && box.x + box.width <= PHONE.width;
      })
      .toBe(true);
    await page.setViewportSize(DESKTOP);
    await item.getByRole("button", { name: "Approve" }).click();
    const decided = page.getByTestId("decided");
    await expect.poll(() => text(decided)).toContain("Approved: erase ran");
    expect(await text(decided)).toContain('"versions_destroyed": 1');
    const after = await call("audit", { user_id: subject(1) }, { token: b.user.token });
    expect(after.error?.status).toBe("NOT_FOUND");
    const log = (
      await call("auditLog", { target_id: subject(1), operation: "erase" }, { token: b.user.token })
    ).result as any;
    const runs = log.entries.filter((e: any) => e.result === "success");
    expect(runs).toHaveLength(1);
    expect(runs[0].actor.uid).toBe(a.user.uid);
    expect(runs[0].details.approved_by).toBe(b.user.uid);
    await expect.poll(() => page.getByTestId("approvals-badge").count()).toBe(0);
    await screenshots(page, "approvals-decided");
    await page.setViewportSize(PHONE);
    expect(await sidewaysOverflow(page)).toEqual([]); // the result's JSON wraps
    await page.setViewportSize(DESKTOP);
  });

  it("when another admin rejects in the browser, then nothing runs and the request shows rejected", async () => {
    const asked = (await call("erase", { user_id: subject(2), reason: "no ticket" }, { token: a.user.token }))
      .result as any;
    const id = asked.pending_approval.approval_id;
    const { page } = b;
    await openPage(page, "/approvals", "Approvals");
    const item = requestFor(b, subject(2));
    await item.getByLabel("Reason for your decision").fill("no ticket attached");
    await item.getByRole("button", { name: "Reject" }).click();
    await expect.poll(() => text(page.getByTestId("decided"))).toContain("Rejected: erase will not run");
    const listed = (await call("approvals", { approval_id: id }, { token: b.user.token })).result as any;
    expect(listed.approvals[0]).toMatchObject({
      state: "rejected",
      decided_by: b.user.uid,
      reason: "no ticket attached",
    });
    expect(
      ((await call("audit", { user_id: subject(2) }, { token: b.user.token })).result as any)?.salt.version,
    ).toBe(1);
  });

  it("when an auditor opens Approvals, then requests and the policy are shown read only", async () => {
    await call("erase", { user_id: subject(2), reason: "again" }, { token: a.user.token });
    const { page } = auditor;
    await openPage(page, "/approvals", "Approvals");
    const item = requestFor(auditor, subject(2)).first();
    await expect.poll(() => text(item.getByTestId("waiting"))).toContain("Read only");
    expect(await page.getByRole("button", { name: "Approve" }).count()).toBe(0);
    expect(await page.getByTestId("policy-form").count()).toBe(0);
    expect(await text(page.getByTestId("policy"))).toBe("erase");
    await page.locator("#state-filter").selectOption("");
    await expect.poll(() => page.getByTestId("approval").count()).toBeGreaterThanOrEqual(3);
    expect(await axeProblems(page)).toEqual([]);
    await screenshots(page, "approvals-auditor");
  });
});

describe("access in the console", () => {
  it("when an admin grants and revokes a role by email, then the table follows and the holder's next call is allowed, then refused", async () => {
    const holder = await createUser({}, "dual-holder");
    await adminAuth().setCustomUserClaims(holder.uid, { team: "bi" });
    const { page } = a;
    await openPage(page, "/access", "Access");
    await page.getByLabel("Account (email or uid)").fill(holder.email);
    await page.getByLabel("Role", { exact: true }).selectOption("auditor");
    await page.locator("#role-reason").fill("quarterly audit (browser)");
    await page.getByRole("button", { name: "Grant" }).click();
    await expect
      .poll(() => text(page.getByTestId("role-changed")))
      .toContain(`auditor granted for ${holder.uid}`);
    await expect.poll(() => text(page.getByTestId("holders-table"))).toContain(holder.email);
    expect((await call("status", {}, { token: holder.token })).result).toBeDefined();
    expect((await adminAuth().getUser(holder.uid)).customClaims).toEqual({ team: "bi", auditor: true });
    expect(await axeProblems(page)).toEqual([]);
    await screenshots(page, "access-admin");
    await page.getByLabel("Account (email or uid)").fill(holder.uid);
    await page.getByLabel("Role", { exact: true }).selectOption("auditor");
    await page.locator("#role-reason").fill("audit over (browser)");
    await page.getByRole("button", { name: "Revoke" }).click();
    await expect.poll(() => text(page.getByTestId("role-changed"))).toContain("roles now: none");
    expect((await call("status", {}, { token: holder.token })).error?.status).toBe("PERMISSION_DENIED");
  });

  it("when an admin tries to remove its own admin role, then the console shows the refusal", async () => {
    const { page } = a;
    await openPage(page, "/access", "Access");
    await page.getByLabel("Account (email or uid)").fill(a.user.email);
    await page.getByLabel("Role", { exact: true }).selectOption("admin");
    await page.locator("#role-reason").fill("step down");
    await page.getByRole("button", { name: "Revoke" }).click();
    await expect.poll(() => text(page.getByTestId("error"))).toContain("cannot remove its own admin role");
  });

  it("when an auditor opens Access, then holders are listed read only, and a scan of Auth finds every holder", async () => {
    const { page } = auditor;
    await openPage(page, "/access", "Access");
    await page.getByTestId("read-only").waitFor();
    expect(await page.getByTestId("role-form").count()).toBe(0);
    await page.getByTestId("scan").click();
    await expect.poll(() => text(page.getByTestId("scan-result"))).toContain("Every account read");
    const scanned = await text(page.getByTestId("scan-table"));
    for (const s of [a, b, auditor]) expect(scanned).toContain(s.user.uid);
    expect(await axeProblems(page)).toEqual([]);
    await screenshots(page, "access-auditor");
  });
});
