import { test, expect } from "@playwright/test";
import { AUTH_URL, OIDC_URL } from "../playwright.config";
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
  await expect(page.locator("body")).not.toContainText("Tenant");
});
