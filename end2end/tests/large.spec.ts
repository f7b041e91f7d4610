import { test, expect, tableRows, hydrated, header, expectedOrder, periodRows, pageOf } from "./fixtures";
import { LARGE_URL } from "../playwright.config";

// 10 000 messages from the fake upstream (fake-upstream.mjs): 100 pages of 100 rows.
test.use({ baseURL: LARGE_URL });

test("a large period shows one page and pages in place to the last", async ({ page }) => {
  const response = await page.goto("/");
  expect(response?.status()).toBe(200);
  await hydrated(page);
  const all = await periodRows(page);
  expect(all.length).toBe(10_000);
  await expect(page.locator("#table-range")).toHaveText("Rows 1–100 of 10\u202F000");
  expect((await tableRows(page)).map((r) => r.id)).toEqual(pageOf(all.map((r) => r.id), 1));

  await page.locator(".pager a[rel=last]").click();
  await expect(page).toHaveURL(/\?page=100&v=[0-9a-f]{13}$/);
  await expect(page.locator("#table-range")).toHaveText("Rows 9\u202F901–10\u202F000 of 10\u202F000");
  await expect.poll(async () => (await tableRows(page)).map((r) => r.id)).toEqual(pageOf(all.map((r) => r.id), 100));
  await page.locator(".pager a[rel=prev]").click();
  await expect(page).toHaveURL(/\?page=99&v=[0-9a-f]{13}$/);
  await page.goBack();
  await expect(page).toHaveURL(/\?page=100&v=[0-9a-f]{13}$/);
  await expect(page.locator("#page-position")).toHaveText("Page 100 of 100");
});

test("sorting a large period orders all of it, names by collation", async ({ page }) => {
  await page.goto("/");
  await hydrated(page);
  const all = await periodRows(page);
  const ids = async () => (await tableRows(page)).map((r) => r.id);
  await header(page, "report_name").getByRole("link").click();
  await expect(page).toHaveURL(/\?sort=report_name:asc$/);
  await expect.poll(ids).toEqual(pageOf(expectedOrder(all, [["name", "asc"]]), 1));
  await header(page, "credits_used").getByRole("link").click();
  await page.locator(".pager a[rel=next]").click();
  await expect(page).toHaveURL(/\?sort=report_name:asc,credits_used:asc&page=2&v=[0-9a-f]{13}$/);
  await expect.poll(ids).toEqual(pageOf(expectedOrder(all, [["name", "asc"], ["credits", "asc"]]), 2));
  // Accented names sort with their base letter: "Ärger" right after the "Apfel"s, before "Lease".
  const names = [...new Set(expectedOrder(all, [["name", "asc"]]).map((id) => all.find((r) => r.id === id)!.name))];
  expect(names.findIndex((n) => n.startsWith("Ärger"))).toBeLessThan(names.findIndex((n) => n.startsWith("Lease")));
});

test.describe("with JavaScript disabled", () => {
  test.use({ javaScriptEnabled: false });

  test("the last page and a sort load from the server", async ({ page }) => {
    await page.goto("/?page=100");
    const all = await periodRows(page);
    expect((await tableRows(page)).map((r) => r.id)).toEqual(pageOf(all.map((r) => r.id), 100));
    await header(page, "credits_used").getByRole("link").click();
    await expect(page).toHaveURL(/\?sort=credits_used:asc$/);
    expect((await tableRows(page)).map((r) => r.id)).toEqual(pageOf(expectedOrder(all, [["credits", "asc"]]), 1));
  });
});
