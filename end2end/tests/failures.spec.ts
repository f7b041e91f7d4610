import { test, expect, tableRows, hydrated, header } from "./fixtures";
import { FLAKY_URL, FLAKY_UPSTREAM_URL } from "../playwright.config";

// A server that keeps nothing (KEPT_PERIOD_TTL_MS=0), so every click asks the upstream, which the test makes
// fail and heal. One test at a time: they share that upstream's state.
test.use({ baseURL: FLAKY_URL });
test.describe.configure({ mode: "serial" });

test("a click the server cannot answer keeps the rows, says why where it was asked, and retries in place", async ({ page, consoleErrors }) => {
  await page.request.post(`${FLAKY_UPSTREAM_URL}/control/heal`);
  await page.goto("/");
  await hydrated(page);
  const before = (await tableRows(page)).map((row) => row.id);
  await page.request.post(`${FLAKY_UPSTREAM_URL}/control/fail`);

  // A sort: the message is beside the headers, nothing else changed.
  await header(page, "credits_used").getByRole("link").click();
  const atHeader = page.locator(".table-error[data-place=header]");
  await expect(atHeader).toContainText("This page could not be loaded: the upstream messages could not be fetched: HTTP 500");
  expect((await tableRows(page)).map((row) => row.id)).toEqual(before);
  await expect(page).toHaveURL(/\/$/);
  await expect(header(page, "credits_used")).toHaveAttribute("aria-sort", "none");
  await expect(page.locator("#table-range")).toHaveText("Rows 1–100 of 250");
  await expect(page.locator(".table-error[data-place=pager]")).toHaveCount(0);

  // A page: the message moves to the pager.
  await page.locator(".pager a[rel=next]").click();
  const atPager = page.locator(".table-error[data-place=pager]");
  await expect(atPager).toContainText("could not be loaded");
  await expect(atHeader).toHaveCount(0);
  expect((await tableRows(page)).map((row) => row.id)).toEqual(before);

  // The upstream is back: the retry loads the page that failed, in place.
  await page.request.post(`${FLAKY_UPSTREAM_URL}/control/heal`);
  await atPager.getByRole("link", { name: "Retry" }).click();
  await expect(page).toHaveURL(/\/\?page=2&v=[0-9a-f]{13}$/);
  await expect(page.locator("#table-range")).toHaveText("Rows 101–200 of 250");
  await expect(page.locator(".table-error")).toHaveCount(0);

  // Back to a view that cannot be loaded now: the page loads its URL, so it shows what that URL gives (the
  // error page), never the rows of another view.
  await page.request.post(`${FLAKY_UPSTREAM_URL}/control/fail`);
  await page.goBack();
  await expect(page).toHaveURL(/\/$/);
  await expect(page.locator("#usage-error")).toBeVisible();
  await expect(page.locator("#usage-table")).toHaveCount(0);
  await page.request.post(`${FLAKY_UPSTREAM_URL}/control/heal`);

  // Chromium reports each refused call on the console (two clicks, the call on going back, the reloaded
  // page); those are expected, anything else is not.
  const refused = consoleErrors.filter((text) => text.includes("status of 503"));
  expect(refused.length).toBe(4);
  consoleErrors.splice(0, consoleErrors.length, ...consoleErrors.filter((text) => !refused.includes(text)));
});

test("a paging walk whose version is gone loads the page that says so, and paging on in place drops the notice", async ({ page }) => {
  await page.request.post(`${FLAKY_UPSTREAM_URL}/control/heal`);
  await page.goto("/");
  await hydrated(page);
  await page.locator(".pager a[rel=next]").click();
  await expect(page).toHaveURL(/\/\?page=2&v=[0-9a-f]{13}$/);
  const walked = new URL(page.url()).searchParams.get("v");
  await expect(page.locator("#data-refreshed")).toHaveCount(0);

  // The upstream moves on; this server keeps no version, so the one the walk began on is gone: the next page
  // is loaded whole, from the latest data, and says so.
  await page.request.post(`${FLAKY_UPSTREAM_URL}/control/next-period`);
  await page.locator(".pager a[rel=next]").click();
  const notice = page.locator("#data-refreshed");
  await expect(notice).toContainText("The data was refreshed since you began paging");
  await expect(page).toHaveURL(new RegExp(`\\?page=3&v=${walked}$`));
  await expect(page.locator("#table-range")).toHaveText("Rows 201–250 of 250");
  await expect(notice.getByRole("link", { name: "Start again from the first page" })).toHaveAttribute("href", "/");

  // Paging on in place is a walk on the latest data: the notice goes, the links carry the new version.
  await hydrated(page);
  await page.locator(".pager a[rel=prev]").click();
  await expect(page).toHaveURL(/\/\?page=2&v=[0-9a-f]{13}$/);
  expect(new URL(page.url()).searchParams.get("v")).not.toBe(walked);
  await expect(page.locator("#table-range")).toHaveText("Rows 101–200 of 250");
  await expect(notice).toHaveCount(0);
});
