import { test, expect, type Page } from "@playwright/test";
import { AUTH_HTTPS_URL, AUTH_URL, OIDC_URL } from "../playwright.config";
import { header, hydrated } from "./fixtures";

// The dashboard behind access control, with a real OpenID provider: its own login page, then back.
const VIEW = "/?tz=Europe%2FBerlin&sort=credits_used%3Adesc";

test("signing in through the provider's page returns to the view first asked for, and signing out ends it", async ({ page }) => {
  // The dashboard's pages must not log errors (the provider's development pages are not ours).
  const errors: string[] = [];
  page.on("console", (message) => {
    const at = message.location().url || page.url();
    if (message.type() === "error" && at.startsWith(AUTH_URL)) errors.push(`${at}: ${message.text()}`);
  });
  page.on("pageerror", (error) => errors.push(error.message));

  await page.goto(`${AUTH_URL}${VIEW}`);
  expect(page.url().startsWith(`${OIDC_URL}/interaction/`), page.url()).toBe(true);
  await page.fill("input[name=login]", "alice");
  await page.fill("input[name=password]", "any");
  await page.click("button[type=submit]");

  await page.waitForURL(`${AUTH_URL}${VIEW}`);
  await expect(page.locator(".signed-in")).toContainText("alice@example.test");
  await hydrated(page);
  await expect(header(page, "credits_used")).toHaveAttribute("aria-sort", "descending");
  // The island's server function runs with the session.
  await header(page, "report_name").getByRole("link").click();
  await expect(header(page, "report_name")).toHaveAttribute("aria-sort", "ascending");

  await page.locator(".signed-in button").click();
  await page.waitForURL(`${AUTH_URL}/auth/signed-out`);
  await expect(page.locator("h1")).toHaveText("Signed out");
  await page.goto(`${AUTH_URL}/`);
  expect(page.url().startsWith(`${OIDC_URL}/interaction/`), "signed out at the provider too: its login page again").toBe(true);
  expect(errors).toEqual([]);
});

test("a person outside the allowed groups is refused, with no data", async ({ page }) => {
  await page.goto(`${AUTH_URL}/`);
  await page.fill("input[name=login]", "bob");
  await page.fill("input[name=password]", "any");
  const [response] = await Promise.all([
    page.waitForResponse((response) => response.url().startsWith(`${AUTH_URL}/auth/callback`)),
    page.click("button[type=submit]"),
  ]);
  expect(response.status()).toBe(403);
  await expect(page.locator("h1")).toHaveText("Not allowed");
  // The fake upstream's reports are leases and reviews: none of them on the refusal.
  await expect(page.locator("body")).not.toContainText("Lease");
});

/// Signs in as `login` on the provider's page the browser is on.
async function logIn(page: Page, login: string) {
  expect(page.url().startsWith(`${OIDC_URL}/interaction/`), page.url()).toBe(true);
  await page.fill("input[name=login]", login);
  await page.fill("input[name=password]", "any");
  await page.click("button[type=submit]");
}

test("a 3 000-character URL survives the sign-in as its view", async ({ page }) => {
  // A browser keeps no cookie over 4 096 bytes: a sign-in that carried this whole URL would be lost.
  const long = `${VIEW}&utm_campaign=${"x".repeat(3000)}`;
  await page.goto(`${AUTH_URL}${long}`);
  const [callback] = await Promise.all([
    page.waitForResponse((response) => response.url().startsWith(`${AUTH_URL}/auth/callback`)),
    logIn(page, "alice"),
  ]);
  expect(callback.status(), "the sign-in under way was found again").toBe(303);
  await page.waitForURL(`${AUTH_URL}/?tz=Europe/Berlin&sort=credits_used:desc`);
  await hydrated(page);
  await expect(header(page, "credits_used")).toHaveAttribute("aria-sort", "descending");
  await expect(page.locator(".signed-in")).toContainText("alice@example.test");
});

test.describe("over https", () => {
  test.use({ ignoreHTTPSErrors: true });

  test("the sign-in's and the session's cookies are __Host- cookies, and signing in works", async ({ page, context }) => {
    await page.goto(`${AUTH_HTTPS_URL}/?tz=UTC`);
    const during = await context.cookies(AUTH_HTTPS_URL);
    const signIn = during.find((cookie) => cookie.name === "__Host-dashboard_sign_in");
    expect(signIn, JSON.stringify(during)).toBeTruthy();
    expect([signIn.secure, signIn.path, signIn.httpOnly]).toEqual([true, "/", true]);
    await logIn(page, "alice");
    await page.waitForURL(`${AUTH_HTTPS_URL}/?tz=UTC`);
    await expect(page.locator(".signed-in")).toContainText("alice@example.test");
    const after = await context.cookies(AUTH_HTTPS_URL);
    const session = after.find((cookie) => cookie.name === "__Host-dashboard_session");
    expect(session, JSON.stringify(after)).toBeTruthy();
    expect([session.secure, session.path, session.httpOnly, session.sameSite]).toEqual([true, "/", true, "Lax"]);
    expect(after.map((cookie) => cookie.name)).not.toContain("dashboard_session");
    expect(after.map((cookie) => cookie.name)).not.toContain("__Host-dashboard_sign_in");
    // The island's server function works with the prefixed session.
    await hydrated(page);
    await header(page, "report_name").getByRole("link").click();
    await expect(header(page, "report_name")).toHaveAttribute("aria-sort", "ascending");
  });
});
