import { mkdirSync } from "node:fs";
import path from "node:path";
import AxeBuilder from "@axe-core/playwright";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { createUser, type TestUser } from "../support/stack";

export const SCREENSHOTS = path.resolve(__dirname, "../../.tmp/screenshots");
export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 390, height: 844 };

export function consoleUrl(): string {
  const url = process.env.CONSOLE_URL;
  if (!url) throw new Error("CONSOLE_URL is not set: run the browser tests through `npm run test:browser`");
  return url.replace(/\/$/, "");
}

/** Debian's Chromium, no download; a launch failure fails the test run. */
export async function launch(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

export interface Session {
  context: BrowserContext;
  page: Page;
  user: TestUser;
  /** Everything the page reported as a problem (uncaught errors, CSP violations). */
  problems: string[];
}

/** A fresh context (axe needs one from newContext) with a real Auth emulator user, signed in through the form. */
export async function signedIn(
  browser: Browser,
  claims: Record<string, unknown>,
  label: string,
  viewport = DESKTOP,
): Promise<Session> {
  const user = await createUser(claims, label);
  const context = await browser.newContext({ viewport, acceptDownloads: true });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
  page.on("console", (m) => {
    if (m.type() === "error" && /Content Security Policy|Refused to/.test(m.text()))
      problems.push(`csp: ${m.text()}`);
  });
  await page.goto(`${consoleUrl()}/`);
  await page.getByLabel("Email").fill(user.email);
  await page.getByLabel("Password").fill(user.password);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await page.getByRole("heading", { level: 1, name: "Overview" }).waitFor();
  return { context, page, user, problems };
}

export async function openPage(page: Page, pathAndQuery: string, heading: string): Promise<void> {
  await page.goto(`${consoleUrl()}${pathAndQuery}`);
  await page.getByRole("heading", { level: 1, name: heading }).waitFor();
}

/** Full-page screenshots at desktop and phone width. */
export async function screenshots(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const before = page.viewportSize() ?? DESKTOP;
  for (const [suffix, size] of [
    ["desktop", DESKTOP],
    ["390", PHONE],
  ] as const) {
    await page.setViewportSize(size);
    await page.waitForTimeout(250);
    await page.screenshot({ path: path.join(SCREENSHOTS, `${name}-${suffix}.png`), fullPage: true });
  }
  await page.setViewportSize(before);
}

/**
 * What sticks out of the viewport sideways (the document's scroll width beyond the window), and the
 * innermost elements whose box ends past it, so a failure names the culprit. Empty when nothing does.
 */
export async function sidewaysOverflow(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const width = window.innerWidth;
    const beyond = document.documentElement.scrollWidth - width;
    if (beyond <= 0) return [];
    const out = Array.from(document.querySelectorAll<HTMLElement>("body *"))
      .filter((e) => e.getBoundingClientRect().right > width + 1)
      .filter((e) => !Array.from(e.children).some((c) => c.getBoundingClientRect().right > width + 1))
      .slice(0, 8)
      .map(
        (e) =>
          `${e.tagName.toLowerCase()}.${Array.from(e.classList).join(".")} ends at ${Math.round(e.getBoundingClientRect().right)}`,
      );
    return [`document ${beyond}px wider than the window`, ...out];
  });
}

/** Serious and critical axe violations (WCAG 2.1 A/AA rules and best practices), summarised. */
export async function axeProblems(page: Page): Promise<string[]> {
  const result = await new AxeBuilder({ page })
    .withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"])
    .analyze();
  return result.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.impact} ${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(" ")).join(", ")})`);
}

/** Waits until the overview numbers are rendered (what "usable" means for the budget too). */
export async function overviewReady(page: Page): Promise<void> {
  await page.getByTestId("users-total").waitFor();
}
