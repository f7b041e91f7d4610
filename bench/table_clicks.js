// Times the hydrated dashboard's table in Chromium, and counts what a repeat visit downloads.
// Clicks: each from the click to the next frame after the table shows the page the server sent for it.
// Visits: bytes of the JS, WASM and CSS under /pkg/ that came over the network, from the DevTools protocol, on a
// first visit and on a second one in the same browser context (whose HTTP cache holds the first one's assets).
// Usage: node bench/table_clicks.js URL   (prints one JSON line)
const { chromium } = require("../end2end/node_modules/playwright-core");

const CREDITS = '#usage-table th[data-column="credits_used"] a';
const REPORT_NAME = '#usage-table th[data-column="report_name"] a';
const CLICKS = [
  ["creditsAsc", CREDITS],
  ["creditsDesc", CREDITS],
  ["reportNameAdded", REPORT_NAME],
  ["nextPage", ".pager a[rel=next]"],
  ["lastPage", ".pager a[rel=last]"],
  ["previousPage", ".pager a[rel=prev]"],
];
const CLICK_TIMEOUT_MS = 30_000;
const HYDRATION_TIMEOUT_MS = 60_000;
const ASSET_KINDS = ["js", "wasm", "css"];

// Joins the DevTools protocol's events by request: URL and cache flags from the response, bytes received from
// the end of loading. `take` sums the /pkg/ assets recorded so far and starts a new record.
function recordAssets(cdp) {
  let requests = new Map();
  const request = (id) => {
    if (!requests.has(id)) requests.set(id, { url: "", fromCache: false, bytes: 0 });
    return requests.get(id);
  };
  cdp.on("Network.responseReceived", ({ requestId, response }) => {
    const entry = request(requestId);
    entry.url = response.url;
    entry.fromCache ||= Boolean(response.fromDiskCache);
  });
  // A memory cache hit has no flag on the response; this event is its sign.
  cdp.on("Network.requestServedFromCache", ({ requestId }) => {
    request(requestId).fromCache = true;
  });
  cdp.on("Network.loadingFinished", ({ requestId, encodedDataLength }) => {
    request(requestId).bytes = encodedDataLength;
  });
  return {
    take() {
      const summary = { js: 0, wasm: 0, css: 0, requests: 0, fromCache: 0 };
      for (const { url, fromCache, bytes } of requests.values()) {
        const path = url ? new URL(url).pathname : "";
        const kind = path.split(".").pop();
        if (!path.startsWith("/pkg/") || !ASSET_KINDS.includes(kind)) continue;
        summary.requests += 1;
        if (fromCache) summary.fromCache += 1;
        else summary[kind] += bytes;
      }
      requests = new Map();
      return summary;
    },
  };
}

// Loads the URL and waits until the table is interactive; returns the milliseconds that took.
async function visit(page, url) {
  const started = Date.now();
  await page.goto(url);
  await page.waitForSelector("body[data-hydrated]", { timeout: HYDRATION_TIMEOUT_MS });
  const hydratedMs = Date.now() - started;
  // Every asset has arrived, the WASM included, before the visit's bytes are summed.
  await page.waitForLoadState("networkidle");
  return hydratedMs;
}

// Clicks the link and times it to the next frame after the table changed: its rows, the range of rows shown,
// or the headers' sort state (a sort that leaves the first page's rows as they were still changes that).
function timeClick(page, selector) {
  return page.evaluate(
    async ({ selector, timeoutMs }) => {
      const state = () =>
        [
          document.querySelector("#table-range").textContent,
          document.querySelector("#usage-table tbody tr td")?.textContent,
          [...document.querySelectorAll("#usage-table th[aria-sort]")].map((th) => th.getAttribute("aria-sort")),
        ].join("|");
      const link = document.querySelector(selector);
      if (!link) throw new Error(`no link ${selector}`);
      const before = state();
      const start = performance.now();
      await new Promise((resolve, reject) => {
        const observer = new MutationObserver(() => {
          if (state() !== before) {
            clearTimeout(timer);
            observer.disconnect();
            resolve();
          }
        });
        const timer = setTimeout(() => {
          observer.disconnect();
          reject(new Error(`${selector}: the table did not change in ${timeoutMs} ms`));
        }, timeoutMs);
        observer.observe(document.querySelector("#usage-table-card"), {
          subtree: true,
          childList: true,
          characterData: true,
          attributes: true,
        });
        link.click();
      });
      // The next frame, and its paint: the timeout runs after it.
      await new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
      const failure = document.querySelector(".table-error");
      if (failure) throw new Error(`${selector}: ${failure.textContent}`);
      return Math.round(performance.now() - start);
    },
    { selector, timeoutMs: CLICK_TIMEOUT_MS },
  );
}

(async () => {
  const url = process.argv[2];
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
  });
  try {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    await cdp.send("Network.enable");
    const assets = recordAssets(cdp);

    const hydratedMs = await visit(page, url);
    const firstVisit = assets.take();
    const range = await page.textContent("#table-range");
    const clicks = {};
    for (const [name, selector] of CLICKS) clicks[name] = await timeClick(page, selector);

    assets.take();
    const repeatHydratedMs = await visit(page, url);
    const repeatVisit = assets.take();
    console.log(JSON.stringify({ range, hydratedMs, clicks, repeatHydratedMs, firstVisit, repeatVisit }));
  } finally {
    await browser.close();
  }
})().catch((error) => {
  console.error(error.message);
  process.exit(1);
});
