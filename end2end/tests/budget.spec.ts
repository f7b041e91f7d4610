import { test, expect, periodRows, figure, Row } from "./fixtures";
import { LARGE_URL, LIVE_URL, LIVE_CYCLE_START } from "../playwright.config";

const hundredths = (rows: Row[]) => rows.reduce((sum, row) => sum + Math.round(row.credits * 100), 0);
const permille = (part: number, whole: number) => Math.floor((part * 2000 + whole) / (whole * 2));
const shown = (value: number) => figure(String(value / 100)).toFixed(2);
const card = (page: import("@playwright/test").Page, name: string) => page.locator(`#budget-card [data-budget=${name}]`);
const day = (date: Date) => date.toISOString().slice(0, 10).split("-").reverse().join("-");

test("a closed period: its final figures against the budget, recomputed from /usage", async ({ page }) => {
  await page.goto("/");
  const used = hundredths(await periodRows(page));
  // The sample: a monthly cycle from 29 April 2024, a budget of 3 000.00, long over.
  expect(figure(await card(page, "used").textContent()) * 100).toBeCloseTo(used, 0);
  expect(figure(await card(page, "budget").textContent())).toBe(3000);
  await expect(card(page, "used-share")).toHaveText(`${(permille(used, 300000) / 10).toFixed(1)} %`);
  await expect(card(page, "left")).toHaveText(shown(300000 - used).replace(/\B(?=(\d{3})+(?!\d))/g, "\u202F"));
  await expect(page.locator("#budget-note")).toHaveText("The period ended on 28-05-2024: these are its final figures.");
  await expect(page.locator("#budget-run-out")).toHaveText(used >= 300000 ? /used up/ : "The period ended within its budget.");
  await expect(page.locator("#budget-projection")).toHaveCount(0);
  await expect(page.locator("#usage-chart li.projected")).toHaveCount(0);
  // The daily allowance: 3 000.00 over the period's 30 days.
  await expect(page.locator("#chart-allowance")).toHaveText("Dashed line: the budget's daily allowance, 100.00 credits a day.");
});

test("a live period: the pace, the projection and the days to come, drawn apart and described", async ({ page }) => {
  await page.goto(`${LIVE_URL}/`);
  const rows = await periodRows(page, LIVE_URL);
  const used = hundredths(rows);
  expect(figure(await card(page, "used").textContent()) * 100).toBeCloseTo(used, 0);
  await expect(card(page, "used-share")).toHaveText(`${(permille(used, 400000) / 10).toFixed(1)} %`);
  // Ten full days (UTC) so far: the pace is their credits over ten days.
  const today = new Date(new Date().toISOString().slice(0, 10) + "T00:00:00Z").getTime();
  const fullDays = rows.filter((row) => new Date(row.time).getTime() < today);
  const pace = Math.floor((hundredths(fullDays) * 2 + 10) / 20);
  await expect(page.locator("#budget-pace")).toHaveText(`Pace: ${shown(pace).replace(/\B(?=(\d{3})+(?!\d))/g, "\u202F")} credits a day over 10 full days so far.`);
  const [projected, low, high] = await Promise.all(
    ["projected", "projected-low", "projected-high"].map(async (name) => figure(await card(page, name).textContent())),
  );
  expect(low).toBeLessThanOrEqual(projected);
  expect(projected).toBeLessThanOrEqual(high);
  expect(projected * 100).toBeGreaterThan(used);
  // Roughly the pace over the twenty days left, on top of what is used.
  expect(Math.abs(projected * 100 - (used + pace * 20))).toBeLessThan(pace * 1.01);
  // The chart: the days to come (tomorrow to the period's 30th day) projected, lighter, listed as such.
  const projectedDays = page.locator("#usage-chart li.projected");
  await expect(projectedDays).toHaveCount(19);
  await expect(projectedDays.first()).toHaveAttribute("data-day", day(new Date(today + 86400_000)));
  await expect(projectedDays.last()).toHaveAttribute("data-day", day(new Date(LIVE_CYCLE_START.getTime() + 29 * 86400_000)));
  await expect(projectedDays.first()).toContainText("projected");
  expect(await page.locator('#usage-chart svg rect[fill="#B7C3F7"]').count()).toBe(19);
  expect(await page.locator('#usage-chart svg [stroke-dasharray="6,4"]').count()).toBeGreaterThanOrEqual(1);
  await expect(page.locator("#chart-allowance")).toHaveText(
    "Dashed line: the budget's daily allowance, 133.33 credits a day. Lighter bars: the days to come, at the pace so far.",
  );
  await expect(page.locator("#budget-run-out")).toHaveText(/^(At this pace the budget (runs out on \d\d-\d\d-\d{4}|lasts the period)|The budget was used up on \d\d-\d\d-\d{4})\.$/);
});

test("no budget and no cycle: the end is unknown and only the pace is shown", async ({ page }) => {
  await page.goto(`${LARGE_URL}/`);
  await expect(page.locator("#budget-note")).toHaveText("The period's end is unknown (no billing cycle is configured): the pace only.");
  await expect(card(page, "budget")).toHaveCount(0);
  await expect(page.locator("#budget-pace")).toHaveText(/^Pace: [\d\u202F]+\.\d\d credits a day over \d+ full days so far\.$/);
  await expect(page.locator("#chart-allowance")).toHaveCount(0);
});
