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

export type Row = { id: string; time: string; name: string; credits: number; creditsText: string };

export async function tableRows(page: Page): Promise<Row[]> {
  return page.$$eval("#usage-table tbody tr", (trs) =>
    trs.map((tr) => {
      const cells = Array.from((tr as HTMLTableRowElement).cells).map((cell) => cell.textContent ?? "");
      return { id: cells[0], time: cells[1], name: cells[2], credits: Number(cells[3]), creditsText: cells[3] };
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

/// The order the rules promise: names case-folded with blanks last in both directions, credits numeric,
/// ties in upstream order.
export function expectedOrder(rows: Row[], keys: [keyof Row, "asc" | "desc"][]): string[] {
  const indexed = rows.map((row, index) => ({ row, index }));
  indexed.sort((a, b) => {
    for (const [column, direction] of keys) {
      let order = 0;
      if (column === "name") {
        const x = a.row.name.toLowerCase();
        const y = b.row.name.toLowerCase();
        if (x === "" && y !== "") return 1;
        if (y === "" && x !== "") return -1;
        order = x < y ? -1 : x > y ? 1 : 0;
      } else {
        order = (a.row[column] as number) - (b.row[column] as number);
      }
      if (order !== 0) return direction === "asc" ? order : -order;
    }
    return a.index - b.index;
  });
  return indexed.map(({ row }) => row.id);
}
