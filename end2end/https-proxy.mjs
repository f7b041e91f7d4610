// A TLS front for the browser tests: the dashboard served over https (public_url https://…), as behind a load
// balancer, with a self-signed certificate made for this run (openssl) for 127.0.0.1 and localhost. Every request
// is passed on as it came to the plain-http server behind it.
// Usage: node https-proxy.mjs PORT TARGET_HOST:TARGET_PORT
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import https from "node:https";
import os from "node:os";
import path from "node:path";

const port = Number(process.argv[2]);
const [targetHost, targetPort] = (process.argv[3] ?? "").split(":");
if (!port || !targetPort) {
  console.error("usage: node https-proxy.mjs PORT TARGET_HOST:TARGET_PORT");
  process.exit(2);
}
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "https-proxy-"));
const [key, cert] = [path.join(dir, "key.pem"), path.join(dir, "cert.pem")];
execFileSync("openssl", [
  "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
  "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
  "-keyout", key, "-out", cert,
], { stdio: "ignore" });

const server = https.createServer({ key: fs.readFileSync(key), cert: fs.readFileSync(cert) }, (request, response) => {
  const upstream = http.request(
    { host: targetHost, port: Number(targetPort), method: request.method, path: request.url, headers: request.headers },
    (answer) => {
      response.writeHead(answer.statusCode, answer.rawHeaders);
      answer.pipe(response);
    },
  );
  upstream.on("error", () => {
    response.statusCode = 502;
    response.end();
  });
  request.pipe(upstream);
});
server.listen(port, "127.0.0.1", () => console.log(`ready https://127.0.0.1:${port}`));
for (const signal of ["SIGTERM", "SIGINT"]) {
  process.on(signal, () => {
    fs.rmSync(dir, { recursive: true, force: true });
    process.exit(0);
  });
}
