import { test, expect, tableRows, hydrated, header, expectedOrder, periodRows, pageOf } from "./fixtures";
import { FAILING_URL, LARGE_UPSTREAM_URL, SAMPLE_URL } from "../playwright.config";

// The sample period has 120 messages: two pages of the default 100 rows.

test("shows the first page of the sample period, its chart and summary", async ({ page }) => {
  const response = await page.goto("/");
  expect(response?.status()).toBe(200);
  const all = await periodRows(page);
  const rows = await tableRows(page);
  expect(rows.length).toBe(100);
  expect(rows[0].id).toBe("1000");
  expect(rows[0].time).toMatch(/^\d\d-\d\d-\d{4} \d\d:\d\d$/);
  // The cells' own text: two decimals, the same figures /usage gives, in upstream order.
  expect(rows.filter((row) => !/^\d+\.\d\d$/.test(row.creditsText))).toEqual([]);
  expect(rows.map((row) => [row.id, row.creditsText])).toEqual(all.slice(0, 100).map((row) => [row.id, row.creditsText]));
  await expect(page.locator("#usage-table thead th")).toHaveText([
    "Message ID",
    "Timestamp (UTC)",
    /^Report Name/,
    /^Credits Used/,
  ]);
  await expect(page.locator("[data-kpi=messages]")).toHaveText(String(all.length));
  // No link without a name (Lighthouse's link-name): the browser's-zone offer is only there when offered.
  expect(await page.$$eval("a:not(svg a)", (links) => links.filter((link) => !(link.textContent ?? "").trim()).length)).toBe(0);
  await expect(page.locator("#table-range")).toHaveText("Rows 1–100 of 120");
  await expect(page.locator("#data-as-of")).toHaveText(/^Data as of \d\d:\d\d:\d\d UTC$/);
  await hydrated(page);
});

test("hydrates: a sort click updates the table in place, without a reload", async ({ page }) => {
  await page.goto("/");
  await hydrated(page);
  await page.evaluate(() => ((window as any).__sameDocument = true));
  await header(page, "credits_used").getByRole("link").click();
  await expect(page).toHaveURL(/\?sort=credits_used:asc$/);
  await expect(header(page, "credits_used")).toHaveAttribute("aria-sort", "ascending");
  expect(await page.evaluate(() => (window as any).__sameDocument)).toBe(true);
});

for (const [column, field] of [
  ["report_name", "name"],
  ["credits_used", "credits"],
] as const) {
  test(`${column}: a click cycles ascending → descending → off, over the whole period`, async ({ page }) => {
    await page.goto("/");
    await hydrated(page);
    const all = await periodRows(page);
    const link = header(page, column).getByRole("link");
    const ids = async () => (await tableRows(page)).map((r) => r.id);

    await link.click();
    await expect(page).toHaveURL(new RegExp(`\\?sort=${column}:asc$`));
    await expect(header(page, column)).toHaveAttribute("aria-sort", "ascending");
    await expect.poll(ids).toEqual(pageOf(expectedOrder(all, [[field, "asc"]]), 1));

    await link.click();
    await expect(page).toHaveURL(new RegExp(`\\?sort=${column}:desc$`));
    await expect(header(page, column)).toHaveAttribute("aria-sort", "descending");
    await expect.poll(ids).toEqual(pageOf(expectedOrder(all, [[field, "desc"]]), 1));

    await link.click();
    await expect(page).toHaveURL(/\/$/);
    await expect(header(page, column)).toHaveAttribute("aria-sort", "none");
    await expect.poll(ids).toEqual(pageOf(all.map((r) => r.id), 1));
  });
}

test("sorting is additive, with priorities shown", async ({ page }) => {
  await page.goto("/");
  await hydrated(page);
  const all = await periodRows(page);
  const ids = async () => (await tableRows(page)).map((r) => r.id);
  await header(page, "report_name").getByRole("link").click();
  await expect(page).toHaveURL(/\?sort=report_name:asc$/);
  await header(page, "credits_used").getByRole("link").click();
  await expect(page).toHaveURL(/\?sort=report_name:asc,credits_used:asc$/);
  await expect(header(page, "report_name").locator(".sort-priority")).toHaveText("1");
  await expect(header(page, "credits_used").locator(".sort-priority")).toHaveText("2");
  await expect.poll(ids).toEqual(pageOf(expectedOrder(all, [["name", "asc"], ["credits", "asc"]]), 1));
  // Cycling the first key keeps the second.
  await header(page, "report_name").getByRole("link").click();
  await expect(page).toHaveURL(/\?sort=report_name:desc,credits_used:asc$/);
  await expect.poll(ids).toEqual(pageOf(expectedOrder(all, [["name", "desc"], ["credits", "asc"]]), 1));
});

test("a sort and page URL loads that exact view", async ({ page }) => {
  await page.goto("/?sort=credits_used:desc,report_name:asc&page=2");
  const all = await periodRows(page);
  expect((await tableRows(page)).map((r) => r.id)).toEqual(
    pageOf(expectedOrder(all, [["credits", "desc"], ["name", "asc"]]), 2),
  );
  await expect(header(page, "credits_used")).toHaveAttribute("aria-sort", "descending");
  await expect(header(page, "credits_used").locator(".sort-priority")).toHaveText("1");
  await expect(header(page, "report_name").locator(".sort-priority")).toHaveText("2");
  await expect(page.locator("#table-range")).toHaveText("Rows 101–120 of 120");
  await hydrated(page);
});

test("paging happens in place, and back and forward walk through pages and sorts", async ({ page }) => {
  await page.goto("/");
  await hydrated(page);
  const all = await periodRows(page);
  const ids = async () => (await tableRows(page)).map((r) => r.id);
  await page.evaluate(() => ((window as any).__sameDocument = true));

  await page.locator(".pager a[rel=next]").click();
  await expect(page).toHaveURL(/\/\?page=2&v=[0-9a-f]{13}$/);
  await expect(page.locator("#table-range")).toHaveText("Rows 101–120 of 120");
  await expect.poll(ids).toEqual(all.slice(100).map((r) => r.id));
  await expect(page.locator(".pager a[rel=next]")).toHaveCount(0);

  // A new sort starts again from the first page.
  await header(page, "credits_used").getByRole("link").click();
  await expect(page).toHaveURL(/\/\?sort=credits_used:asc$/);
  await expect.poll(ids).toEqual(pageOf(expectedOrder(all, [["credits", "asc"]]), 1));

  await page.goBack();
  await expect(page).toHaveURL(/\/\?page=2&v=[0-9a-f]{13}$/);
  await expect.poll(ids).toEqual(all.slice(100).map((r) => r.id));
  await expect(header(page, "credits_used")).toHaveAttribute("aria-sort", "none");
  await page.goBack();
  await expect(page).toHaveURL(/\/$/);
  await expect.poll(ids).toEqual(pageOf(all.map((r) => r.id), 1));
  await page.goForward();
  await expect(page.locator("#table-range")).toHaveText("Rows 101–120 of 120");
  expect(await page.evaluate(() => (window as any).__sameDocument)).toBe(true);
});

test("malformed sort and page values are ignored", async ({ page }) => {
  const response = await page.goto("/?sort=bogus:up,credits_used,%3Cscript%3E,credits_used:desc,credits_used:asc&page=zz");
  expect(response?.status()).toBe(200);
  const all = await periodRows(page);
  expect((await tableRows(page)).map((r) => r.id)).toEqual(pageOf(expectedOrder(all, [["credits", "desc"]]), 1));
  await hydrated(page);
});

test("headers and page links are operable from the keyboard", async ({ page }) => {
  await page.goto("/");
  await hydrated(page);
  await header(page, "report_name").getByRole("link").focus();
  await page.keyboard.press("Enter");
  await expect(page).toHaveURL(/\?sort=report_name:asc$/);
  await expect(header(page, "report_name")).toHaveAttribute("aria-sort", "ascending");
  await page.locator(".pager a[rel=next]").focus();
  await page.keyboard.press("Enter");
  await expect(page).toHaveURL(/\?sort=report_name:asc&page=2&v=[0-9a-f]{13}$/);
  await expect(page.locator("#table-range")).toHaveText("Rows 101–120 of 120");
});

test("the chart has one entry per day, a zero day included, with the period's totals", async ({ page }) => {
  await page.goto("/");
  const all = await periodRows(page);
  const perDay = new Map<string, number>();
  for (const row of all) {
    const [year, month, day] = new Date(row.time).toISOString().slice(0, 10).split("-");
    const key = `${day}-${month}-${year}`;
    perDay.set(key, (perDay.get(key) ?? 0) + Math.round(row.credits * 100));
  }
  const entries = await page.$$eval("#usage-chart li", (items) =>
    items.map((li) => [li.getAttribute("data-day") ?? "", li.getAttribute("data-credits") ?? ""]),
  );
  // Sample period: Monday 29 April to Monday 6 May 2024, nothing on Saturday 4 May.
  expect(entries.map(([day]) => day)).toEqual([
    "29-04-2024", "30-04-2024", "01-05-2024", "02-05-2024", "03-05-2024", "04-05-2024", "05-05-2024", "06-05-2024",
  ]);
  for (const [day, credits] of entries) {
    const hundredths = perDay.get(day) ?? 0;
    expect(credits, day).toBe(`${Math.floor(hundredths / 100)}.${String(hundredths % 100).padStart(2, "0")}`);
  }
  expect(entries.find(([day]) => day === "04-05-2024")?.[1]).toBe("0.00");
  await expect(page.locator("#usage-chart svg")).toBeVisible();
  await hydrated(page);
});

test("an upstream failure shows the 503 panel with a retry of the same view", async ({ page, consoleErrors }) => {
  const response = await page.goto(`${FAILING_URL}/?tz=Europe/London&sort=credits_used:desc&page=2`);
  expect(response?.status()).toBe(503);
  await expect(page.getByRole("alert")).toContainText("Usage could not be loaded");
  await expect(page.getByRole("link", { name: "Retry" })).toHaveAttribute("href", "/?tz=Europe/London&sort=credits_used:desc&page=2");
  await expect(page.locator("#usage-table")).toHaveCount(0);
  // Chromium reports the page's own 503 on the console; that one is expected, anything else is not.
  await expect.poll(() => consoleErrors.findIndex((text) => text.includes("status of 503"))).toBeGreaterThanOrEqual(0);
  consoleErrors.splice(consoleErrors.findIndex((text) => text.includes("status of 503")), 1);
});

test.describe("with JavaScript disabled", () => {
  test.use({ javaScriptEnabled: false });

  test("sort headers and page links load the server-rendered next view", async ({ page }) => {
    await page.goto("/");
    const all = await periodRows(page);
    await header(page, "report_name").getByRole("link").click();
    await expect(page).toHaveURL(/\?sort=report_name:asc$/);
    expect((await tableRows(page)).map((r) => r.id)).toEqual(pageOf(expectedOrder(all, [["name", "asc"]]), 1));
    await header(page, "credits_used").getByRole("link").click();
    await expect(page).toHaveURL(/\?sort=report_name:asc,credits_used:asc$/);
    const order = expectedOrder(all, [["name", "asc"], ["credits", "asc"]]);
    expect((await tableRows(page)).map((r) => r.id)).toEqual(pageOf(order, 1));
    await page.locator(".pager a[rel=next]").click();
    await expect(page).toHaveURL(/\?sort=report_name:asc,credits_used:asc&page=2&v=[0-9a-f]{13}$/);
    expect((await tableRows(page)).map((r) => r.id)).toEqual(pageOf(order, 2));
    await page.locator(".pager a[rel=first]").click();
    expect((await tableRows(page)).map((r) => r.id)).toEqual(pageOf(order, 1));
  });
});

test.describe("/usage from another origin", () => {
  // The sample server lists http://127.0.0.1:3190 (the fake upstream's /other-app page) in
  // CORS_ALLOWED_ORIGINS; http://localhost:3190 is the same page on an origin that is not listed.
  async function readUsageFrom(page: import("@playwright/test").Page, origin: string) {
    await page.goto(`${origin}/other-app`);
    return page.evaluate(async (url) => {
      try {
        const response = await fetch(url);
        return { ok: true, rows: (await response.json()).usage.length };
      } catch (error) {
        return { ok: false, rows: 0 };
      }
    }, `${SAMPLE_URL}/usage`);
  }

  test("a listed origin reads /usage", async ({ page }) => {
    expect(await readUsageFrom(page, LARGE_UPSTREAM_URL)).toEqual({ ok: true, rows: 120 });
  });

  test("an unlisted origin is refused", async ({ page, consoleErrors }) => {
    expect(await readUsageFrom(page, LARGE_UPSTREAM_URL.replace("127.0.0.1", "localhost"))).toEqual({ ok: false, rows: 0 });
    // Chromium reports the refusal on the console; that one is expected.
    const refusals = consoleErrors.filter((text) => /CORS policy|Failed to fetch|ERR_FAILED/.test(text));
    expect(refusals.filter((text) => /CORS policy/.test(text)).length).toBeGreaterThanOrEqual(1);
    consoleErrors.splice(0, consoleErrors.length, ...consoleErrors.filter((text) => !refusals.includes(text)));
  });
});
