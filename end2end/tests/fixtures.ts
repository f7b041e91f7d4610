import { test as base, expect, Page } from "@playwright/test";

/// Every test fails on a console error or an uncaught exception in the page.
export const test = base.extend<{ consoleErrors: string[] }>({
  consoleErrors: [
    async ({ page }, use) => {
      const errors: string[] = [];
      page.on("console", (message) => {
        if (message.type() === "error") errors.push(message.text());
      });
      page.on("pageerror", (error) => errors.push(error.message));
      await use(errors);
      expect(errors, "console errors").toEqual([]);
    },
    { auto: true },
  ],
});
export { expect };

/// A count or amount as the page writes it (digits grouped by narrow no-break spaces) as a number.
export function figure(text: string | null): number {
  return Number((text ?? "").replace(/\u202F/g, ""));
}

export type Row = { id: string; time: string; name: string; credits: number; creditsText: string };

export async function tableRows(page: Page): Promise<Row[]> {
  return page.$$eval("#usage-table tbody tr", (trs) =>
    trs.map((tr) => {
      const cells = Array.from((tr as HTMLTableRowElement).cells).map((cell) => cell.textContent ?? "");
      // The credits cell holds a <details>: its summary is the figure, the rest its explanation.
      const credits = tr.querySelector("td.credits summary")?.textContent ?? cells[3];
      return { id: cells[0], time: cells[1], name: cells[2], credits: Number(credits.replace(/\u202F/g, "")), creditsText: credits };
    }),
  );
}

/// Waits until the WASM has taken over the server-rendered page.
export async function hydrated(page: Page) {
  await page.waitForSelector("body[data-hydrated]", { timeout: 15_000 });
}

export function header(page: Page, column: "report_name" | "credits_used") {
  return page.locator(`#usage-table th[data-column="${column}"]`);
}

/// The whole period as /usage gives it, in upstream order: the oracle the table's pages are checked against.
export async function periodRows(page: Page, base = ""): Promise<Row[]> {
  const response = await page.request.get(`${base}/usage`);
  const usage = (await response.json()).usage as { message_id: number; timestamp: string; report_name?: string; credits_used: number }[];
  return usage.map((entry) => ({
    id: String(entry.message_id),
    time: entry.timestamp,
    name: entry.report_name ?? "",
    credits: entry.credits_used,
    creditsText: entry.credits_used.toFixed(2),
  }));
}

/// Report names as the server compares them: Unicode collation, case ignored, accents secondary.
const collator = new Intl.Collator("und", { sensitivity: "accent" });

/// The order the rules promise: names by collation with blanks last in both directions, credits numeric,
/// ties in upstream order.
export function expectedOrder(rows: Row[], keys: [keyof Row, "asc" | "desc"][]): string[] {
  const indexed = rows.map((row, index) => ({ row, index }));
  indexed.sort((a, b) => {
    for (const [column, direction] of keys) {
      let order = 0;
      if (column === "name") {
        const x = a.row.name;
        const y = b.row.name;
        if (x === "" && y !== "") return 1;
        if (y === "" && x !== "") return -1;
        order = collator.compare(x, y);
      } else {
        order = (a.row[column] as number) - (b.row[column] as number);
      }
      if (order !== 0) return direction === "asc" ? order : -order;
    }
    return a.index - b.index;
  });
  return indexed.map(({ row }) => row.id);
}

/// The ids page `n` (1-based) of `size` rows shows.
export function pageOf(ids: string[], n: number, size = 100): string[] {
  return ids.slice((n - 1) * size, n * size);
}
