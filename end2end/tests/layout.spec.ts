import { test, expect, hydrated } from "./fixtures";

// Screenshots land in end2end/test-results/ for a person to look at; the assertions are what must hold.

test("desktop: the chart fits its card and the page does not overflow", async ({ page }) => {
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.goto("/");
  await hydrated(page);
  const card = await page.locator("#usage-chart").boundingBox();
  const svg = await page.locator("#usage-chart svg").boundingBox();
  expect(svg && card && svg.width <= card.width).toBe(true);
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(1280);
  const align = await page.$eval("#usage-table tbody tr td:last-child", (td) => getComputedStyle(td).textAlign);
  expect(align).toBe("right");
  await page.screenshot({ path: "test-results/dashboard-desktop.png", fullPage: true });
});

test("phone: the table scrolls sideways inside its card, the page does not", async ({ page }) => {
  await page.setViewportSize({ width: 360, height: 780 });
  await page.goto("/");
  await hydrated(page);
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(360);
  const scroller = await page.$eval(".table-scroll", (el) => ({ scroll: el.scrollWidth, client: el.clientWidth }));
  expect(scroller.scroll).toBeGreaterThan(scroller.client);
  await page.screenshot({ path: "test-results/dashboard-phone.png" });
});

test.describe("dark scheme", () => {
  test.use({ colorScheme: "dark" });

  test("follows prefers-color-scheme", async ({ page }) => {
    await page.goto("/");
    const background = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    const [r, g, b] = background.match(/\d+/g)!.map(Number);
    expect(r + g + b).toBeLessThan(120);
    await page.screenshot({ path: "test-results/dashboard-dark.png", fullPage: true });
    await hydrated(page);
  });
});
