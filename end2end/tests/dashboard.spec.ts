import { test, expect, tableRows, hydrated, header, expectedOrder } from "./fixtures";
import { FAILING_URL, SAMPLE_URL } from "../playwright.config";

test("shows the sample period's rows, chart and summary", async ({ page }) => {
  const response = await page.goto("/");
  expect(response?.status()).toBe(200);
  const rows = await tableRows(page);
  expect(rows.length).toBeGreaterThanOrEqual(100);
  expect(rows[0].id).toBe("1000");
  expect(rows[0].time).toMatch(/^\d\d-\d\d-\d{4} \d\d:\d\d$/);
  // The cells' own text: two decimals, the same figures /usage gives, in upstream order.
  expect(rows.filter((row) => !/^\d+\.\d\d$/.test(row.creditsText))).toEqual([]);
  const usage = (await (await page.request.get("/usage")).json()).usage as { message_id: number; credits_used: number }[];
  expect(rows.map((row) => [row.id, row.creditsText])).toEqual(
    usage.map((entry) => [String(entry.message_id), entry.credits_used.toFixed(2)]),
  );
  await expect(page.locator("#usage-table thead th")).toHaveText([
    "Message ID",
    "Timestamp (UTC)",
    /^Report Name/,
    /^Credits Used/,
  ]);
  await expect(page.locator("[data-kpi=messages]")).toHaveText(String(rows.length));
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
  test(`${column}: a click cycles ascending → descending → off`, async ({ page }) => {
    await page.goto("/");
    await hydrated(page);
    const upstream = await tableRows(page);
    const link = header(page, column).getByRole("link");

    await link.click();
    await expect(page).toHaveURL(new RegExp(`\\?sort=${column}:asc$`));
    await expect(header(page, column)).toHaveAttribute("aria-sort", "ascending");
    expect((await tableRows(page)).map((r) => r.id)).toEqual(expectedOrder(upstream, [[field, "asc"]]));

    await link.click();
    await expect(page).toHaveURL(new RegExp(`\\?sort=${column}:desc$`));
    await expect(header(page, column)).toHaveAttribute("aria-sort", "descending");
    expect((await tableRows(page)).map((r) => r.id)).toEqual(expectedOrder(upstream, [[field, "desc"]]));

    await link.click();
    await expect(page).toHaveURL(/\/$/);
    await expect(header(page, column)).toHaveAttribute("aria-sort", "none");
    expect((await tableRows(page)).map((r) => r.id)).toEqual(upstream.map((r) => r.id));
  });
}

test("sorting is additive, with priorities shown", async ({ page }) => {
  await page.goto("/");
  await hydrated(page);
  const upstream = await tableRows(page);
  await header(page, "report_name").getByRole("link").click();
  await expect(page).toHaveURL(/\?sort=report_name:asc$/);
  await header(page, "credits_used").getByRole("link").click();
  await expect(page).toHaveURL(/\?sort=report_name:asc,credits_used:asc$/);
  await expect(header(page, "report_name").locator(".sort-priority")).toHaveText("1");
  await expect(header(page, "credits_used").locator(".sort-priority")).toHaveText("2");
  expect((await tableRows(page)).map((r) => r.id)).toEqual(
    expectedOrder(upstream, [["name", "asc"], ["credits", "asc"]]),
  );
  // Cycling the first key keeps the second.
  await header(page, "report_name").getByRole("link").click();
  await expect(page).toHaveURL(/\?sort=report_name:desc,credits_used:asc$/);
  expect((await tableRows(page)).map((r) => r.id)).toEqual(
    expectedOrder(upstream, [["name", "desc"], ["credits", "asc"]]),
  );
});

test("a sort URL loads that exact view", async ({ page }) => {
  await page.goto("/");
  const upstream = await tableRows(page);
  await page.goto("/?sort=credits_used:desc,report_name:asc");
  expect((await tableRows(page)).map((r) => r.id)).toEqual(
    expectedOrder(upstream, [["credits", "desc"], ["name", "asc"]]),
  );
  await expect(header(page, "credits_used")).toHaveAttribute("aria-sort", "descending");
  await expect(header(page, "credits_used").locator(".sort-priority")).toHaveText("1");
  await expect(header(page, "report_name").locator(".sort-priority")).toHaveText("2");
  await hydrated(page);
});

test("back and forward walk through sort states", async ({ page }) => {
  await page.goto("/");
  await hydrated(page);
  await header(page, "credits_used").getByRole("link").click();
  await expect(page).toHaveURL(/sort=credits_used:asc$/);
  await header(page, "credits_used").getByRole("link").click();
  await expect(page).toHaveURL(/sort=credits_used:desc$/);
  await page.goBack();
  await expect(page).toHaveURL(/sort=credits_used:asc$/);
  await expect(header(page, "credits_used")).toHaveAttribute("aria-sort", "ascending");
  await page.goBack();
  await expect(page).toHaveURL(/\/$/);
  await expect(header(page, "credits_used")).toHaveAttribute("aria-sort", "none");
  await page.goForward();
  await expect(header(page, "credits_used")).toHaveAttribute("aria-sort", "ascending");
});

test("malformed sort entries are ignored", async ({ page }) => {
  await page.goto("/");
  const upstream = await tableRows(page);
  const response = await page.goto("/?sort=bogus:up,credits_used,%3Cscript%3E,credits_used:desc,credits_used:asc");
  expect(response?.status()).toBe(200);
  expect((await tableRows(page)).map((r) => r.id)).toEqual(expectedOrder(upstream, [["credits", "desc"]]));
  await hydrated(page);
});

test("headers are operable from the keyboard", async ({ page }) => {
  await page.goto("/");
  await hydrated(page);
  await header(page, "report_name").getByRole("link").focus();
  await page.keyboard.press("Enter");
  await expect(page).toHaveURL(/\?sort=report_name:asc$/);
  await expect(header(page, "report_name")).toHaveAttribute("aria-sort", "ascending");
});

test("the chart has one entry per day, a zero day included, with the table's totals", async ({ page }) => {
  await page.goto("/");
  const rows = await tableRows(page);
  const perDay = new Map<string, number>();
  for (const row of rows) {
    const day = row.time.slice(0, 10);
    perDay.set(day, (perDay.get(day) ?? 0) + Math.round(row.credits * 100));
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

test("an upstream failure shows the 503 panel with a retry link", async ({ page, consoleErrors }) => {
  const response = await page.goto(`${FAILING_URL}/`);
  expect(response?.status()).toBe(503);
  await expect(page.getByRole("alert")).toContainText("Usage could not be loaded");
  await expect(page.getByRole("link", { name: "Retry" })).toHaveAttribute("href", "/");
  await expect(page.locator("#usage-table")).toHaveCount(0);
  await hydrated(page);
  // Chromium reports the page's own 503 on the console; that one is expected, anything else is not.
  const expected = consoleErrors.findIndex((text) => text.includes("status of 503"));
  expect(expected).toBeGreaterThanOrEqual(0);
  consoleErrors.splice(expected, 1);
});

test.describe("with JavaScript disabled", () => {
  test.use({ javaScriptEnabled: false });

  test("sort headers are links to the server-rendered next view", async ({ page }) => {
    await page.goto("/");
    const upstream = await tableRows(page);
    await header(page, "report_name").getByRole("link").click();
    await expect(page).toHaveURL(/\?sort=report_name:asc$/);
    expect((await tableRows(page)).map((r) => r.id)).toEqual(expectedOrder(upstream, [["name", "asc"]]));
    await header(page, "credits_used").getByRole("link").click();
    await expect(page).toHaveURL(/\?sort=report_name:asc,credits_used:asc$/);
    expect((await tableRows(page)).map((r) => r.id)).toEqual(
      expectedOrder(upstream, [["name", "asc"], ["credits", "asc"]]),
    );
  });
});

test.describe("/usage from another origin", () => {
  // The sample server lists http://localhost:3100 in CORS_ALLOWED_ORIGINS; its own origin is 127.0.0.1.
  const readUsage = (page: import("@playwright/test").Page) =>
    page.evaluate(async (url) => {
      try {
        const response = await fetch(url);
        return { ok: true, rows: (await response.json()).usage.length };
      } catch (error) {
        return { ok: false, rows: 0 };
      }
    }, `${SAMPLE_URL}/usage`);

  // A bare page on the given origin, as another team's app would be.
  async function openPageOn(page: import("@playwright/test").Page, origin: string) {
    await page.route(`${origin}/other-app`, (route) =>
      route.fulfill({ contentType: "text/html", body: "<!DOCTYPE html><title>Another app</title>" }),
    );
    await page.goto(`${origin}/other-app`);
  }

  test("a listed origin reads /usage", async ({ page }) => {
    await openPageOn(page, "http://localhost:3100");
    const result = await readUsage(page);
    expect(result.ok).toBe(true);
    expect(result.rows).toBeGreaterThanOrEqual(100);
  });

  test("an unlisted origin is refused", async ({ page, consoleErrors }) => {
    await openPageOn(page, FAILING_URL);
    expect(await readUsage(page)).toEqual({ ok: false, rows: 0 });
    // Chromium reports the refusal on the console; that one is expected.
    const refusals = consoleErrors.filter((text) => /CORS policy|Failed to fetch|ERR_FAILED/.test(text));
    expect(refusals.length).toBeGreaterThanOrEqual(1);
    consoleErrors.splice(0, consoleErrors.length, ...consoleErrors.filter((text) => !refusals.includes(text)));
  });
});
