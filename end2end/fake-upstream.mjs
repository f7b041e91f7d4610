// A fake upstream billing API for the browser tests: a period of COUNT messages over April 2024, a third of
// them with a report id; reports 100–139 exist (names with accents and mixed case), 140–149 are 404.
// It also serves /other-app, a bare page standing for another team's web app on another origin, and controls
// for the tests: POST /control/fail makes the messages endpoint answer 500 until POST /control/heal, and
// POST /control/next-period moves on to the next billing period (the same messages 30 days later, new ids).
// With `recent`, the messages are spread over the ten days before now instead (from 00:00 UTC ten days ago).
// Usage: node fake-upstream.mjs PORT COUNT [recent]
import http from "node:http";

const port = Number(process.argv[2] ?? 3190);
const count = Number(process.argv[3] ?? 10000);
const recent = process.argv[4] === "recent";
const today = new Date(new Date().toISOString().slice(0, 10) + "T00:00:00Z").getTime();
const names = ["Ärger Clause Review", "apfel Lease", "Apfel Lease", "Zebra Sublease", "Öl Tank Survey", "Lease Review"];

/// Period 0 starts on 1 April 2024; each next one 30 days later.
function periodBody(period) {
  const messages = [];
  for (let i = 0; i < count; i++) {
    const second = Math.floor((i * 30 * 86400) / count) + period * 30 * 86400;
    // Recent: from ten days before today, 00:00 UTC, to an hour ago at most.
    const span = Date.now() - 3600_000 - (today - 10 * 86400_000);
    const timestamp = recent
      ? new Date(today - 10 * 86400_000 + 3600_000 + Math.floor((i * (span - 3600_000)) / count)).toISOString()
      : new Date(Date.UTC(2024, 3, 1) + second * 1000).toISOString();
    const message = { id: 100000 + period * 1000000 + i, text: "x".repeat((i * 13 + period) % 200), timestamp };
    if (i % 3 === 0) message.report_id = 100 + (i % 50);
    messages.push(message);
  }
  return JSON.stringify({ messages });
}
let period = 0;
let messagesBody = periodBody(period);
let failing = false;

http
  .createServer((request, response) => {
    const report = request.url.match(/^\/reports\/(\d+)$/);
    if (request.method === "POST" && request.url === "/control/next-period") {
      period += 1;
      messagesBody = periodBody(period);
      response.writeHead(204).end();
    } else if (request.method === "POST" && request.url.startsWith("/control/")) {
      failing = request.url === "/control/fail";
      response.writeHead(204).end();
    } else if (request.url === "/other-app") {
      response.writeHead(200, { "content-type": "text/html" }).end('<!DOCTYPE html><link rel="icon" href="data:,"><title>Another app</title>');
    } else if (request.url === "/messages/current-period" && failing) {
      response.writeHead(500).end();
    } else if (request.url === "/messages/current-period") {
      response.writeHead(200, { "content-type": "application/json" }).end(messagesBody);
    } else if (report && Number(report[1]) >= 100 && Number(report[1]) < 140) {
      const id = Number(report[1]);
      const body = { id, name: `${names[id % names.length]} ${id % 7}`, credit_cost: 5 + (id % 11) * 1.5 };
      response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(body));
    } else {
      response.writeHead(404).end();
    }
  })
  .listen(port, "127.0.0.1");
