// The console off the loopback in a real browser: scripts/test-console starts a second console
// with `--listen 0.0.0.0` and a certificate signed by a CA it made with openssl. Chromium (which
// does not know that CA: the context ignores certificate errors, as a user who accepted the
// certificate would) opens the printed https link, lands on the destinations page, and holds the
// session cookie as Secure and HttpOnly; plain HTTP on the same port gets nothing.
//
// Environment: TLS_CONSOLE_URL (the https link the console printed, with its token).

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { chromium } from "playwright-core";

const link = process.env.TLS_CONSOLE_URL;
if (!link) throw new Error("TLS_CONSOLE_URL is not set: run scripts/test-console");
const url = new URL(link);
const here = `https://127.0.0.1:${url.port}`;

let browser;
before(async () => {
  browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
});
after(async () => {
  await browser?.close();
});

test("over HTTPS the console opens and its cookie is Secure and HttpOnly", async () => {
  assert.equal(url.protocol, "https:");
  const context = await browser.newContext({ ignoreHTTPSErrors: true });
  const page = await context.newPage();
  await page.goto(`${here}/?token=${url.searchParams.get("token")}`);
  assert.equal(page.url(), `${here}/`, "the token left the address bar");
  await page.getByRole("heading", { name: "Export destinations" }).waitFor();
  const cookies = await context.cookies(here);
  const session = cookies.find((c) => c.name === "autopilot_console");
  assert.ok(session, JSON.stringify(cookies));
  assert.equal(session.secure, true);
  assert.equal(session.httpOnly, true);
  assert.equal(session.sameSite, "Strict");
  assert.equal(await page.evaluate(() => document.cookie), "", "no script reads it");
  await context.close();
});

test("plain HTTP on the console's port gets no page", async () => {
  const answer = await fetch(`http://127.0.0.1:${url.port}/?token=${url.searchParams.get("token")}`, { redirect: "manual" })
    .then((r) => r.status, () => "refused");
  assert.notEqual(answer, 303);
  assert.notEqual(answer, 200);
});
