// What the browser tests of the web console share: their environment (set by scripts/test-console),
// Chromium through playwright-core with every answer's text and every dialog recorded, screenshots,
// the data folder's files, a sandbox's /admin routes, and the tables the pages show.

import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { chromium } from "playwright-core";

/** The environment variable `name`; a clear error when the suite is run without its script. */
export const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run scripts/test-console`);
  return value;
};

/**
 * Chromium with one page. `answers` collects every answer's URL and text the browser received
 * (to look for keys), `dialogs` every dialog's message (each dismissed).
 */
export async function openBrowser() {
  const browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1200, height: 900 } });
  const page = await context.newPage();
  const answers = [];
  const dialogs = [];
  page.on("dialog", (d) => { dialogs.push(d.message()); d.dismiss(); });
  page.on("response", async (r) => {
    try { answers.push(`${r.url()}\n${await r.text()}`); } catch { /* redirects have no body */ }
  });
  return { browser, context, page, answers, dialogs };
}

/** A function that saves a full-page screenshot of `page` as `dir/NAME.png`. */
export function screenshots(page, dir) {
  fs.mkdirSync(dir, { recursive: true });
  return (name) => page.screenshot({ path: path.join(dir, `${name}.png`), fullPage: true });
}

/** Every file under `dir`, recursively. */
export function files(dir) {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(path.join(dir, e.name)) : [path.join(dir, e.name)]);
}
/** The files under `dir` whose bytes hold `text`. */
export const filesHolding = (dir, text) => files(dir).filter((f) => fs.readFileSync(f).includes(text));
/** Each destination stored in the data folder `dataDir`: its file name and text. */
export const destinationFiles = (dataDir) =>
  files(path.join(dataDir, "destinations")).map((f) => [path.basename(f), fs.readFileSync(f, "utf8")]);

/**
 * Asserts that `key` is in no answer the browser received and no line of the console's logs
 * (`logs`: paths separated by colons), and that in the data folder only the secret store may hold
 * it (`stored`: how many of its files must).
 */
export function assertKeyKept(key, { answers, logs, dataDir, stored }) {
  assert.deepEqual(answers.filter((a) => a.includes(key)).map((a) => a.split("\n")[0]), []);
  for (const log of logs.split(":")) assert.ok(!fs.readFileSync(log, "utf8").includes(key), log);
  const holding = filesHolding(dataDir, key).map((f) => path.relative(dataDir, f));
  assert.equal(holding.length, stored, holding.join(", "));
  for (const f of holding) assert.match(f, /^secrets\//);
}

/** A sandbox's /admin routes, with its admin token. */
export function sandboxAdmin(url, token) {
  const headers = { authorization: `Bearer ${token}` };
  const call = (method, route, body) =>
    fetch(`${url}/admin/${route}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  return {
    call,
    /** Every contact and list (Ortto: person and tag). */
    state: async () => (await call("GET", "state")).json(),
    counters: async () => (await call("GET", "counters")).json(),
    /** Sets the faults (`{}` for none). */
    faults: async (faults) => assert.equal((await call("PUT", "faults", faults)).status, 204),
    /** A change by hand (`method route`), which must answer 204. */
    done: async (method, route) => assert.equal((await call(method, route)).status, 204, `${method} ${route}`),
  };
}

/** The sorted addresses `${prefix}${i}@example.com` for i in [from, to), but `except`. */
export function emails(prefix, from, to, except = []) {
  const all = [];
  for (let i = from; i < to; i++) all.push(`${prefix}${i}@example.com`);
  return all.filter((e) => !except.includes(e)).sort();
}

/** The rows of a table's body as their cells' trimmed texts, header cell first. */
export const rowsOf = (rows) =>
  rows.evaluateAll((trs) => trs.map((tr) => [...tr.children].map((c) => c.textContent.trim())));

/** The rows of a table's body by their first cell: the other cells' texts. */
export async function rowsByName(rows) {
  return Object.fromEntries((await rowsOf(rows)).map(([name, ...cells]) => [name, cells]));
}

/** Asserts that every column of `table` shows inside its card: its scroller has nothing to scroll. */
export async function assertFitsItsCard(table) {
  const { shown, wide } = await table.evaluate((t) =>
    ({ shown: t.parentElement.clientWidth, wide: t.parentElement.scrollWidth }));
  assert.ok(wide <= shown, `the table is ${wide} px wide in a card showing ${shown} px`);
}

/** "1,300" as 1300. */
export const number = (text) => Number(text.replace(/,/g, ""));
