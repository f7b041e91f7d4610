import { test, expect, tableRows, hydrated, header, expectedOrder, periodRows, pageOf, figure } from "./fixtures";
import { HISTORY_URL, HISTORY_UPSTREAM_URL } from "../playwright.config";

// A server with a history store, on a fake upstream the test moves on to its next period: the period before
// stays browsable, exportable and comparable. One test at a time: they share that upstream's state.
test.use({ baseURL: HISTORY_URL });
test.describe.configure({ mode: "serial" });

test("a period the upstream moved on from is picked, paged, sorted and exported like the current one", async ({ page }) => {
  await page.goto("/");
  await hydrated(page);
  // Period A as /usage gives it while it is current: the oracle for everything below.
  const periodA = await periodRows(page);
  expect(periodA.length).toBe(150);
  await expect(page.locator("#period-picker li")).toHaveCount(1);

  // The upstream moves on; the server records it and closes A (the page is reloaded until the picker lists A).
  await page.request.post(`${HISTORY_UPSTREAM_URL}/control/next-period`);
  await expect
    .poll(async () => {
      await page.goto("/?sort=credits_used:desc&tz=Europe/Berlin");
      return page.locator("#period-picker li[data-period='2024-04-01'] a").count();
    }, { timeout: 20_000 })
    .toBe(1);
  await expect(page.locator("#period-picker li[data-period='current']")).toHaveClass(/shown/);
  const periodB = await periodRows(page);
  expect(periodB[0].id).toBe("1100000");
  // Both periods are in 2024, long before now (when the data was fetched): the current one is compared with
  // all of the previous one, recomputed here from /usage.
  const hundredths = (rows: typeof periodA) => rows.reduce((sum, row) => sum + Math.round(row.credits * 100), 0);
  const [to, then] = [hundredths(periodB), hundredths(periodA)];
  const change = Math.round(((to - then) / then) * 1000);
  const amount = (value: number) =>
    `${Math.trunc(value / 100)}`.replace(/\B(?=(\d{3})+(?!\d))/g, "\u202F") + "." + `${value % 100}`.padStart(2, "0");
  await expect(page.locator("#period-comparison")).toHaveText(
    `${change < 0 ? "−" : "+"}${Math.trunc(Math.abs(change) / 10)}.${Math.abs(change) % 10} % against the whole of the previous ` +
      `period (01-04-2024 → 30-04-2024): ${amount(to)} credits so far; it used ${amount(then)} credits in all.`,
  );

  // Picking A keeps the zone and the sort, and shows A from the store.
  await hydrated(page);
  await page.locator("#period-picker li[data-period='2024-04-01'] a").click();
  await expect(page).toHaveURL(/\?period=2024-04-01&tz=Europe\/Berlin&sort=credits_used:desc$/);
  await expect(page).toHaveTitle(/\(past period\)$/);
  await expect(page.locator(".subtitle")).toHaveText("A past billing period, as recorded");
  await expect(page.locator("[data-kpi=messages]")).toHaveText("150");
  const totalA = periodA.reduce((sum, row) => sum + Math.round(row.credits * 100), 0);
  expect(Math.round(figure(await page.locator("[data-kpi=total]").textContent()) * 100)).toBe(totalA);
  const byCredits = expectedOrder(periodA, [["credits", "desc"]]);
  expect((await tableRows(page)).map((row) => row.id)).toEqual(pageOf(byCredits, 1));

  // Sorted and paged in place, still A.
  await hydrated(page);
  await header(page, "report_name").getByRole("link").click();
  await expect(page).toHaveURL(/\?period=2024-04-01&tz=Europe\/Berlin&sort=credits_used:desc,report_name:asc$/);
  const order = expectedOrder(periodA, [["credits", "desc"], ["name", "asc"]]);
  await expect.poll(async () => (await tableRows(page)).map((row) => row.id)).toEqual(pageOf(order, 1));
  await page.locator(".pager a[rel=next]").click();
  await expect(page.locator("#table-range")).toHaveText("Rows 101–150 of 150");
  await expect.poll(async () => (await tableRows(page)).map((row) => row.id)).toEqual(pageOf(order, 2));

  // Its CSV: A, every row, in the view's order.
  const href = (await page.locator("a#export-csv").getAttribute("href"))!;
  expect(href).toBe("/usage.csv?period=2024-04-01&tz=Europe/Berlin&sort=credits_used:desc,report_name:asc");
  const csv = await (await page.request.get(href)).text();
  expect(csv.trim().split("\n").slice(1).map((line) => line.slice(0, line.indexOf(",")))).toEqual(order);

  // And back to the current period.
  await page.locator("#period-picker li[data-period='current'] a").click();
  await expect(page).toHaveURL(/\?tz=Europe\/Berlin&sort=credits_used:desc,report_name:asc$/);
  expect((await tableRows(page))[0].id.startsWith("11")).toBe(true);
});

test.describe("with JavaScript disabled", () => {
  test.use({ javaScriptEnabled: false });

  test("the period picker is plain links", async ({ page }) => {
    await page.goto("/");
    const past = page.locator("#period-picker li:not([data-period='current']) a").first();
    await expect(past).toHaveCount(1);
    await past.click();
    await expect(page).toHaveURL(/\?period=\d{4}-\d\d-\d\d$/);
    await expect(page).toHaveTitle(/\(past period\)$/);
    expect((await tableRows(page)).length).toBe(100);
  });
});
