// Times sort clicks on the hydrated dashboard in Chromium: from the click to the next frame after it.
// Usage: node bench/table_sort.js URL   (prints one JSON line)
const { chromium } = require("../end2end/node_modules/playwright-core");

(async () => {
  const url = process.argv[2];
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
  });
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const started = Date.now();
  await page.goto(url);
  await page.waitForSelector("body[data-hydrated]", { timeout: 60_000 });
  const hydratedMs = Date.now() - started;
  const rows = await page.$$eval("#usage-table tbody tr", (trs) => trs.length);
  const clicks = [];
  for (const column of ["credits_used", "credits_used", "report_name", "report_name", "report_name", "credits_used"]) {
    clicks.push(
      await page.evaluate(async (column) => {
        const start = performance.now();
        document.querySelector(`th[data-column="${column}"] a`).click();
        await new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
        return Math.round(performance.now() - start);
      }, column),
    );
  }
  console.log(JSON.stringify({ rows, hydratedMs, clicks }));
  await browser.close();
})().catch((error) => {
  console.error(error.message);
  process.exit(1);
});
