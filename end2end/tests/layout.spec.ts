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

test("phone: every row shows its credits without scrolling, and the chart's text stays readable", async ({ page }) => {
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto("/");
  await hydrated(page);
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
  // The first rows' credits are inside the viewport's width, with nothing scrolled.
  const credits = await page.$$eval("#usage-table tbody tr td.credits summary", (cells) =>
    cells.slice(0, 5).map((cell) => {
      const box = cell.getBoundingClientRect();
      return { left: box.left, right: box.right, text: cell.textContent };
    }),
  );
  expect(credits.length).toBe(5);
  for (const cell of credits) {
    expect(cell.left, cell.text ?? "").toBeGreaterThanOrEqual(0);
    expect(cell.right, cell.text ?? "").toBeLessThanOrEqual(390);
  }
  const heights = await page.$$eval("#usage-chart svg text", (texts) =>
    texts.map((text) => text.getBoundingClientRect().height).filter((height) => height > 0),
  );
  // The chart's labels: the eight days and the axis' figures. None measured would prove nothing.
  expect(heights.length).toBeGreaterThanOrEqual(8);
  expect(Math.min(...heights)).toBeGreaterThanOrEqual(10);
  await page.screenshot({ path: "test-results/dashboard-phone.png", fullPage: true });
});

test("print: every row of the page shown, no scroll box, no controls", async ({ page }) => {
  await page.goto("/?page=2");
  await hydrated(page);
  await page.emulateMedia({ media: "print" });
  const rows = await page.$$eval("#usage-table tbody tr", (trs) => trs.filter((tr) => tr.getBoundingClientRect().height > 0).length);
  expect(rows).toBe(20);
  const box = await page.$eval(".table-scroll", (el) => ({ scroll: el.scrollHeight, client: el.clientHeight, overflow: getComputedStyle(el).overflow }));
  expect(box.overflow).toBe("visible");
  await expect(page.locator(".pager")).toBeHidden();
  await expect(page.locator("#export-csv")).toBeHidden();
  await page.screenshot({ path: "test-results/dashboard-print.png", fullPage: true });
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
