import { test, expect } from "./fixtures";
import Ajv2020 from "ajv/dist/2020";
import { FAILING_URL } from "../playwright.config";

// The JSON endpoints' bodies, as served, against the OpenAPI 3.1 description the server publishes: what a
// consumer generating a client relies on.
test("every JSON body the server sends validates against /openapi.json", async ({ request }) => {
  const document = await (await request.get("/openapi.json")).json();
  expect(document.openapi).toBe("3.1.0");
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  ajv.addSchema({ ...document, $id: "openapi" });
  const check = (schema: string, body: unknown) => {
    const validate = ajv.getSchema(`openapi#/components/schemas/${schema}`)!;
    expect(validate, schema).toBeTruthy();
    const valid = validate(body);
    return { valid, errors: JSON.stringify(validate.errors) };
  };

  const usage = await (await request.get("/usage")).json();
  expect(usage.usage.length).toBe(120);
  expect(check("UsageResponse", usage)).toEqual({ valid: true, errors: "null" });
  const summary = await (await request.get("/usage/summary?tz=Europe/Berlin")).json();
  expect(summary.time_zone).toBe("Europe/Berlin");
  expect(check("UsageSummary", summary)).toEqual({ valid: true, errors: "null" });
  const failed = await request.get(`${FAILING_URL}/usage`);
  expect(failed.status()).toBe(503);
  expect(check("ErrorBody", await failed.json())).toEqual({ valid: true, errors: "null" });
  const unknown = await request.get("/usage.csv?period=2023-01-01");
  expect(unknown.status()).toBe(404);
  expect(check("ErrorBody", await unknown.json())).toEqual({ valid: true, errors: "null" });

  // The check can fail: a row without its credits, or credits as a string, is not the contract.
  const { credits_used, ...withoutCredits } = usage.usage[0];
  expect(check("UsageResponse", { usage: [withoutCredits] }).valid).toBe(false);
  expect(check("UsageResponse", { usage: [{ ...usage.usage[0], credits_used: String(credits_used) }] }).valid).toBe(false);
  expect(check("UsageSummary", { ...summary, days: "none" }).valid).toBe(false);
});
