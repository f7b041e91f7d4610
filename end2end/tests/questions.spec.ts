import { test, expect, tableRows, hydrated, header, expectedOrder, periodRows, pageOf, figure } from "./fixtures";

test("a breakdown row filters the table to its report, in place of the whole period", async ({ page }) => {
  await page.goto("/?sort=credits_used:desc");
  await hydrated(page);
  const all = await periodRows(page);
  const lines = page.locator("#usage-breakdown tbody tr");
  // Largest first, and the lines add up to the header's total.
  const credits = (await page.$$eval("#usage-breakdown tbody tr td:nth-child(3)", (tds) => tds.map((td) => td.textContent))).map(
    (text) => Math.round(figure(text) * 100),
  );
  expect(credits).toEqual([...credits].sort((a, b) => b - a));
  const total = Math.round(figure(await page.locator("[data-kpi=total]").textContent()) * 100);
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

test("the filter chip removes the filter, and the whole page follows", async ({ page }) => {
  await page.goto("/?report=~text");
  await hydrated(page);
  const all = await periodRows(page);
  expect((await tableRows(page)).map((r) => r.id)).toEqual(pageOf(all.filter((r) => r.name === "").map((r) => r.id), 1));
  await expect(page.locator("#usage-breakdown tr.selected")).toHaveCount(1);
  await page.locator("#report-chip").click();
  await expect(page).toHaveURL(/\/$/);
  await expect(page.locator("#table-range")).toHaveText("Rows 1–100 of 120");
  // The breakdown outside the table no longer marks a filter, and no link carries it.
  await expect(page.locator("#usage-breakdown tr.selected")).toHaveCount(0);
  await expect(page.locator("#usage-breakdown a[aria-current]")).toHaveCount(0);
  expect(await page.$$eval("a[href*='report=']", (links) => links.map((link) => link.getAttribute("href")))).toEqual(
    await page.$$eval("#usage-breakdown a", (links) => links.map((link) => link.getAttribute("href"))),
  );
  await expect(page.locator("#zone-form input[name=report]")).toHaveCount(0);
});

test("after an in-place sort, every link and form outside the table carries the new sort", async ({ page }) => {
  await page.goto("/?tz=Europe/London");
  await hydrated(page);
  await header(page, "credits_used").getByRole("link").click();
  await expect(page).toHaveURL(/\?tz=Europe\/London&sort=credits_used:asc$/);
  const outside = async () =>
    page.$$eval(".follows-sort", (elements) =>
      elements.map((element) => (element.tagName === "INPUT" ? (element as HTMLInputElement).value : element.getAttribute("href"))),
    );
  // The chart's bars and its day list, the breakdown's lines and the zone form's field.
  await expect.poll(async () => (await outside()).length).toBeGreaterThan(20);
  for (const carried of await outside()) {
    if (carried!.startsWith("/")) expect(new URL(carried!, "http://x").searchParams.get("sort"), carried!).toBe("credits_used:asc");
    else expect(carried).toBe("credits_used:asc");
  }
  await expect(page.locator("#usage-chart li a").first()).toHaveAttribute("href", /^\/\?tz=Europe\/London&day=\d{4}-\d\d-\d\d&sort=credits_used:asc$/);
  // Following one of them keeps the sort: a bar's day, in the zone, sorted.
  await expect(page.locator("#usage-chart a.bar-link").first()).toHaveAttribute("href", /&sort=credits_used:asc$/);
  await page.locator("#usage-chart a.bar-link").first().click();
  await expect(page).toHaveURL(/&sort=credits_used:asc$/);
  await expect(header(page, "credits_used")).toHaveAttribute("aria-sort", "ascending");
  // The zone form too.
  await page.locator("#tz-input").fill("America/New_York");
  await page.locator("#zone-form button[type=submit]").click();
  await expect(page).toHaveURL(/tz=America%2FNew_York&sort=credits_used%3Aasc$/);
  // And back: the in-place sort undone in place, the links with it.
  await page.goto("/");
  await hydrated(page);
  await header(page, "credits_used").getByRole("link").click();
  await expect(page).toHaveURL(/\?sort=credits_used:asc$/);
  await page.goBack();
  await expect(page).toHaveURL(/\/$/);
  await expect.poll(async () => (await outside()).filter((carried) => carried!.includes("sort="))).toEqual([]);
  await expect(page.locator("#zone-form input[name=sort]")).toBeDisabled();
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
  expect(lines[0]).toBe("message_id,timestamp,report_name,credits_used,local_time,time_zone,explanation");
  const all = await periodRows(page);
  const view = expectedOrder(all.filter((r) => r.name === ""), [["credits", "asc"]]);
  expect(lines.slice(1).map((line) => line.split(",")[0])).toEqual(view);
  // The first page of the table is the CSV's beginning.
  expect((await tableRows(page)).map((r) => r.id)).toEqual(pageOf(view, 1));
});

test("the whole period's CSV is the table's pages, one after the other", async ({ page }) => {
  await page.goto("/?sort=report_name:asc,credits_used:desc");
  await hydrated(page);
  const first = (await tableRows(page)).map((r) => r.id);
  await page.locator(".pager a[rel=next]").click();
  await expect(page.locator("#table-range")).toHaveText("Rows 101–120 of 120");
  const second = (await tableRows(page)).map((r) => r.id);
  const href = (await page.locator("a#export-csv").getAttribute("href"))!;
  expect(href).toBe("/usage.csv?sort=report_name:asc,credits_used:desc");
  const csv = await (await page.request.get(href)).text();
  // Report names may hold commas: read the first field only, which is a number.
  const ids = csv.trim().split("\n").slice(1).map((line) => line.slice(0, line.indexOf(",")));
  expect(ids).toEqual([...first, ...second]);
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

/// The sample's messages of one UTC day, `YYYY-MM-DD`, in upstream order.
async function idsOnDay(page: import("@playwright/test").Page, day: string) {
  return (await periodRows(page)).filter((row) => new Date(row.time).toISOString().startsWith(day)).map((row) => row.id);
}

test("a chart bar opens its day: the table, the header and the breakdown narrow, back restores", async ({ page }) => {
  await page.goto("/");
  await hydrated(page);
  const expected = await idsOnDay(page, "2024-05-01");
  await page.locator('#usage-chart a.bar-link[href="/?day=2024-05-01"]').click();
  await expect(page).toHaveURL(/\/\?day=2024-05-01$/);
  expect((await tableRows(page)).map((r) => r.id)).toEqual(expected);
  await expect(page.locator("[data-kpi=messages]")).toHaveText(String(expected.length));
  await expect(page.locator("#day-chip")).toContainText("01-05-2024");
  // The chart keeps every day and marks the chosen one.
  await expect(page.locator("#usage-chart li")).toHaveCount(8);
  await expect(page.locator("#usage-chart a.bar-link.selected")).toHaveCount(1);
  const breakdownMessages = await page.$$eval("#usage-breakdown tbody tr td:nth-child(2)", (tds) => tds.reduce((sum, td) => sum + Number(td.textContent), 0));
  expect(breakdownMessages).toBe(expected.length);
  await page.goBack();
  await expect(page).toHaveURL(/\/$/);
  await expect(page.locator("[data-kpi=messages]")).toHaveText("120");
});

test("the zone picker shows the page in another zone, with its offset", async ({ page }) => {
  await page.goto("/?sort=credits_used:desc");
  await hydrated(page);
  await page.locator("#tz-input").fill("America/New_York");
  await page.locator("#zone-form button[type=submit]").click();
  await expect(page).toHaveURL(/\/\?tz=America%2FNew_York&sort=credits_used%3Adesc$/);
  await expect(page.locator("#zone-offset")).toHaveText(/^America\/New_York · UTC−0[45]:00$/);
  await expect(page.locator("#usage-table thead th").nth(1)).toHaveText("Timestamp (America/New_York)");
  // 29-04-2024 00:00 UTC is the evening of the 28th in New York: the billing cycle (29-04 to 29-05 00:00 UTC)
  // and its messages start a day earlier.
  await expect(page.locator("[data-kpi=period]")).toHaveText("28-04-2024 → 28-05-2024");
  await expect(page.locator("[data-kpi=usage-span]")).toHaveText("28-04-2024 → 06-05-2024");
  await expect(page.locator("#usage-chart li").first()).toHaveAttribute("data-day", "28-04-2024");
});

test("an unknown zone shows UTC with a notice", async ({ page }) => {
  const response = await page.goto("/?tz=Mars/Olympus");
  expect(response?.status()).toBe(200);
  await expect(page.locator("#zone-notice")).toContainText("Mars/Olympus");
  await expect(page.locator("#zone-offset")).toHaveText("UTC · UTC+00:00");
  await hydrated(page);
});

test.describe("in a browser whose zone is Europe/Berlin", () => {
  test.use({ timezoneId: "Europe/Berlin" });

  test("its own zone is one click away", async ({ page }) => {
    await page.goto("/?sort=credits_used:asc");
    await hydrated(page);
    const offer = page.locator("#use-local-zone");
    await expect(offer).toHaveText("Use my time zone (Europe/Berlin)");
    await offer.click();
    await expect.poll(() => Object.fromEntries(new URL(page.url()).searchParams)).toEqual({ sort: "credits_used:asc", tz: "Europe/Berlin" });
    await expect(page.locator("#zone-offset")).toHaveText(/^Europe\/Berlin · UTC\+0[12]:00$/);
    // Now that the page is in the browser's zone, there is nothing to offer.
    await hydrated(page);
    await expect(offer).toBeHidden();
  });
});

test.describe("with JavaScript disabled, days and zones", () => {
  test.use({ javaScriptEnabled: false });

  test("the chart's day list and the zone form work through links and a GET form", async ({ page }) => {
    await page.goto("/");
    const expected = await idsOnDay(page, "2024-05-02");
    await page.locator('#usage-chart li[data-day="02-05-2024"] a').focus();
    await page.keyboard.press("Enter");
    await expect(page).toHaveURL(/\/\?day=2024-05-02$/);
    expect((await tableRows(page)).map((r) => r.id)).toEqual(expected);
    await page.locator("#day-chip").click();
    await expect(page).toHaveURL(/\/$/);
    await page.locator("#tz-input").fill("Europe/London");
    await page.locator("#zone-form button[type=submit]").click();
    await expect(page).toHaveURL(/tz=Europe%2FLondon/);
    await expect(page.locator("#usage-table thead th").nth(1)).toHaveText("Timestamp (Europe/London)");
  });
});
