import { test, expect, tableRows, hydrated, header, expectedOrder, periodRows, pageOf } from "./fixtures";

test("a breakdown row filters the table to its report, in place of the whole period", async ({ page }) => {
  await page.goto("/?sort=credits_used:desc");
  await hydrated(page);
  const all = await periodRows(page);
  const lines = page.locator("#usage-breakdown tbody tr");
  // Largest first, and the lines add up to the header's total.
  const credits = await page.$$eval("#usage-breakdown tbody tr td:nth-child(3)", (tds) => tds.map((td) => Math.round(Number(td.textContent) * 100)));
  expect(credits).toEqual([...credits].sort((a, b) => b - a));
  const total = Math.round(Number(await page.locator("[data-kpi=total]").textContent()) * 100);
  expect(credits.reduce((a, b) => a + b, 0)).toBe(total);

  const report = (await lines.first().getAttribute("data-report"))!;
  const name = report === "~text" ? "" : report;
  await lines.first().getByRole("link").click();
  await expect(page).toHaveURL(new RegExp(`\\?sort=credits_used:desc&report=`));
  const expected = expectedOrder(all.filter((row) => row.name === name), [["credits", "desc"]]);
  expect((await tableRows(page)).map((r) => r.id)).toEqual(pageOf(expected, 1));
  await expect(page.locator("#report-chip")).toContainText(name || "Priced by text");
  await page.goBack();
  await expect(page).toHaveURL(/\?sort=credits_used:desc$/);
  await expect(page.locator("#report-chip")).toHaveCount(0);
});

test("the filter chip removes the filter in place", async ({ page }) => {
  await page.goto("/?report=~text");
  await hydrated(page);
  const all = await periodRows(page);
  expect((await tableRows(page)).map((r) => r.id)).toEqual(pageOf(all.filter((r) => r.name === "").map((r) => r.id), 1));
  await page.locator("#report-chip").click();
  await expect(page).toHaveURL(/\/$/);
  await expect(page.locator("#table-range")).toHaveText("Rows 1–100 of 120");
});

test("an explanation opens from the keyboard and reconciles with the credits", async ({ page }) => {
  await page.goto("/");
  await hydrated(page);
  const summary = page.locator("#usage-table tbody tr td.credits summary").first();
  await summary.focus();
  await page.keyboard.press("Enter");
  const explanation = page.locator("#usage-table tbody tr td.credits .explanation").first();
  await expect(explanation).toBeVisible();
  const text = (await explanation.textContent())!;
  const figure = (await summary.textContent())!;
  // Whatever the path, the explanation ends with the price it explains (or the minimum that was applied).
  expect(text.endsWith(figure) || text.endsWith(`minimum ${figure} applied`), `${text} / ${figure}`).toBe(true);
});

test("the CSV link exports exactly the view, every page of it, and follows sort changes", async ({ page }) => {
  await page.goto("/?report=~text");
  await hydrated(page);
  await header(page, "credits_used").getByRole("link").click();
  await expect(page).toHaveURL(/\?sort=credits_used:asc&report=~text$/);
  const href = (await page.locator("a#export-csv").getAttribute("href"))!;
  expect(href).toBe("/usage.csv?sort=credits_used:asc&report=~text");
  const response = await page.request.get(href);
  expect(response.headers()["content-type"]).toBe("text/csv; charset=utf-8");
  const lines = (await response.text()).trim().split("\n");
  expect(lines[0]).toBe("message_id,timestamp,report_name,credits_used,time_utc,explanation");
  const all = await periodRows(page);
  const view = expectedOrder(all.filter((r) => r.name === ""), [["credits", "asc"]]);
  expect(lines.slice(1).map((line) => line.split(",")[0])).toEqual(view);
  // The first page of the table is the CSV's beginning.
  expect((await tableRows(page)).map((r) => r.id)).toEqual(pageOf(view, 1));
});

test.describe("with JavaScript disabled", () => {
  test.use({ javaScriptEnabled: false });

  test("breakdown links, explanations and the CSV link work", async ({ page }) => {
    await page.goto("/");
    const all = await periodRows(page);
    await page.locator("#usage-breakdown tbody tr[data-report='~text'] a").click();
    await expect(page).toHaveURL(/\?report=~text$/);
    expect((await tableRows(page)).map((r) => r.id)).toEqual(pageOf(all.filter((r) => r.name === "").map((r) => r.id), 1));
    await page.locator("#usage-table tbody tr td.credits summary").first().click();
    await expect(page.locator("#usage-table tbody tr td.credits .explanation").first()).toBeVisible();
    await expect(page.locator("a#export-csv")).toHaveAttribute("href", "/usage.csv?report=~text");
    await page.locator("#report-chip").click();
    await expect(page).toHaveURL(/\/$/);
  });
});
