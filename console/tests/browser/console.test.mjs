// The web console in a real browser (Debian's Chromium, driven by playwright-core), against the
// console and the Autopilot sandbox that scripts/test-console starts. Controls are found by their
// accessible names, the contract the console keeps for tests and screen readers.
//
// Environment: CONSOLE_URL (the first line the console printed, with its token), SANDBOX_URL
// (http://127.0.0.1:PORT), SANDBOX_KEY, SANDBOX_ADMIN_TOKEN, DATA_DIR, SNAPSHOTS_DIR, CONSOLE_LOG
// (its output files, separated by colons), SCREENSHOTS.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import zlib from "node:zlib";
import { assertKeyKept, destinationFiles, env, files, filesHolding, openBrowser, rowsByName, rowsOf, sandboxAdmin, screenshots }
  from "./helpers.mjs";

const consoleLink = env("CONSOLE_URL");
const origin = new URL(consoleLink).origin;
const sandboxUrl = env("SANDBOX_URL");
const sandboxKey = env("SANDBOX_KEY");
const admin = sandboxAdmin(sandboxUrl, env("SANDBOX_ADMIN_TOKEN"));
const dataDir = env("DATA_DIR");
const snapshotsDir = env("SNAPSHOTS_DIR");
const consoleLog = env("CONSOLE_LOG");
const shots = env("SCREENSHOTS");
const refusedKey = "refused-key-" + Math.random().toString(36).slice(2);
const hostileName = '<script>window.__hacked = 1</script> Marketing';

// Two segments that overlap, with an invalid row and a duplicate each; a third file whose name
// looks like HTML, never exported.
const person = (i) => [`person${i}@example.com`, `First${i}`, `Last${i}`, `Co ${i % 5}`];
const vip = { name: "VIP Customers", from: 0, to: 700 };
const lapsed = { name: "Lapsed Buyers", from: 500, to: 1300 };
function snapshotText(segment) {
  const lines = ["email,first_name,last_name,company"];
  for (let i = segment.from; i < segment.to; i++) lines.push(person(i).join(","));
  lines.push("not-an-email,Bad,Row,Nowhere");
  lines.push(person(segment.from).join(",").toUpperCase());
  return lines.join("\n") + "\n";
}
// A folder of unload parts (two gzip CSV parts with their header rows, and the unload's
// bookkeeping), and a data-lake folder whose model names an entity with headerless partitions.
const churn = { name: "Churn Risk", from: 1300, to: 1400 };
const winback = { name: "Winback", from: 1400, to: 1450 };
function unloadParts() {
  const dir = path.join(snapshotsDir, churn.name);
  fs.mkdirSync(dir, { recursive: true });
  const rows = (from, to) => ["email,first_name,last_name,company",
    ...Array.from({ length: to - from }, (_, k) => person(from + k).join(","))].join("\n") + "\n";
  fs.writeFileSync(path.join(dir, "part-00000.csv.gz"), zlib.gzipSync(rows(1300, 1350)));
  fs.writeFileSync(path.join(dir, "part-00001.csv.gz"), zlib.gzipSync(rows(1350, 1400)));
  fs.writeFileSync(path.join(dir, "_SUCCESS"), "");
  const lake = path.join(snapshotsDir, "lake");
  fs.mkdirSync(path.join(lake, "Winback"), { recursive: true });
  const attributes = ["email", "first_name", "last_name", "company"].map((name) => ({ name, dataType: "string" }));
  const partition = (n) => ({ name: `part-${n}`,
    location: `https://account.dfs.core.windows.net/ci/exports/Winback/part-0000${n}.csv`,
    fileFormatSettings: { $type: "CsvFormatSettings", columnHeaders: false, delimiter: "," } });
  fs.writeFileSync(path.join(lake, "model.json"), JSON.stringify({ name: "ci", version: "1.0",
    entities: [{ $type: "LocalEntity", name: winback.name, attributes, partitions: [partition(0), partition(1)] }] }));
  const headerless = (from, to) => Array.from({ length: to - from }, (_, k) => person(from + k).join(",")).join("\n") + "\n";
  fs.writeFileSync(path.join(lake, "Winback", "part-00000.csv"), headerless(1400, 1425));
  fs.writeFileSync(path.join(lake, "Winback", "part-00001.csv"), headerless(1425, 1450));
}
const expected = (segment) => {
  const emails = [];
  for (let i = segment.from; i < segment.to; i++) emails.push(`person${i}@example.com`);
  return emails.sort();
};

let browser;
let context;
let page;
let answers; // every answer's text the browser received
let dialogs;
let shot;

before(async () => {
  fs.writeFileSync(path.join(snapshotsDir, "VIP Customers.csv"), snapshotText(vip));
  fs.writeFileSync(path.join(snapshotsDir, "Lapsed Buyers.csv.gz"), zlib.gzipSync(snapshotText(lapsed)));
  fs.writeFileSync(path.join(snapshotsDir, "<img src=x onerror=alert(1)>.csv"), "email\nx@example.com\n");
  ({ browser, context, page, answers, dialogs } = await openBrowser());
  shot = screenshots(page, shots);
});

after(async () => {
  await browser?.close();
});

const sandboxState = admin.state;
const sandboxFaults = admin.faults;

test("a request without the token gets 401, and so does a wrong token", async () => {
  for (const url of [`${origin}/`, `${origin}/setup`, `${origin}/assets/style.css`, `${origin}/?token=wrong`]) {
    const answer = await fetch(url, { redirect: "manual" });
    assert.equal(answer.status, 401, url);
  }
  const post = await fetch(`${origin}/setup`, { method: "POST", body: "display_name=x", redirect: "manual" });
  assert.equal(post.status, 401);
});

test("the printed link opens the console, and the token leaves the address bar for a cookie", async () => {
  await page.goto(consoleLink);
  assert.equal(page.url(), `${origin}/`);
  await page.getByRole("heading", { name: "Export destinations" }).waitFor();
  const [cookie] = await context.cookies();
  assert.equal(cookie.httpOnly, true);
  assert.equal(cookie.sameSite, "Strict");
  assert.equal(await page.evaluate(() => document.cookie), "", "the page's script cannot read the token");
  await shot("01-destinations-empty");
});

test("a request from another site is refused even with the cookie", async () => {
  const answer = await page.evaluate(async () => {
    const r = await fetch("/destinations/x/remove", { method: "POST", headers: { "x-test": "1" } });
    return r.status;
  });
  // The page's own fetch is same-origin: it reaches the route (404, no such destination).
  assert.equal(answer, 404);
  const [cookie] = await context.cookies();
  const forged = await fetch(`${origin}/setup`, {
    method: "POST",
    headers: { cookie: `${cookie.name}=${cookie.value}`, origin: "http://evil.example", "content-type": "application/x-www-form-urlencoded" },
    body: "display_name=Forged&api_key=k&agree=on",
    redirect: "manual",
  });
  assert.equal(forged.status, 403);
});

test("a refused key shows the error at the field and stores nothing", async () => {
  await page.getByRole("link", { name: "Set up" }).click();
  await page.getByLabel("Display name").fill("Refused");
  await page.getByLabel("Autopilot API key").fill(refusedKey);
  await page.getByLabel("I agree").check();
  await page.getByText("Advanced").click();
  await page.getByLabel("Autopilot API URL").fill(`${sandboxUrl}/v1`);
  await page.getByRole("button", { name: "Connect" }).click();
  const error = page.locator("#api_key-error");
  await error.getByText("Autopilot refused this API key").waitFor();
  assert.equal(await page.getByLabel("Autopilot API key").getAttribute("aria-invalid"), "true");
  assert.equal(await page.getByLabel("Autopilot API key").inputValue(), "", "the key is not filled back in");
  assert.equal(await page.getByLabel("Display name").inputValue(), "Refused");
  assert.deepEqual(files(path.join(dataDir, "destinations")), []);
  assert.deepEqual(files(path.join(dataDir, "secrets")), []);
  assert.deepEqual(filesHolding(dataDir, refusedKey), []);
  await shot("02-set-up-refused-key");
});

test("keyboard only through Set up; an HTML-looking display name shows as text", async () => {
  await page.goto(`${origin}/setup`);
  const focused = () => page.evaluate(() => document.activeElement?.id || document.activeElement?.textContent.trim());
  async function tabTo(want) {
    for (let i = 0; i < 25; i++) {
      await page.keyboard.press("Tab");
      if ((await focused()) === want) return;
    }
    assert.fail(`Tab never reached ${want}`);
  }
  await tabTo("display_name");
  await page.keyboard.type(hostileName);
  await tabTo("api_key");
  await page.keyboard.type(sandboxKey);
  await tabTo("agree");
  await page.keyboard.press("Space");
  await tabTo("Advanced");
  await page.keyboard.press("Enter");
  await tabTo("api_url");
  await page.keyboard.press("ControlOrMeta+a");
  await page.keyboard.type(`${sandboxUrl}/v1`);
  await shot("03-set-up-filled");
  await tabTo("Connect");
  await page.keyboard.press("Enter");
  await page.getByLabel("Export user").waitFor();
  await shot("04-export-user");
  await tabTo("Add yourself as export user");
  await page.keyboard.press("Enter");
  assert.notEqual(await page.getByLabel("Export user").inputValue(), "");
  await tabTo("Next");
  await page.keyboard.press("Enter");
  await page.getByLabel("Email").waitFor();
  const heading = await page.getByRole("heading", { level: 1 }).textContent();
  assert.equal(heading, `Data matching for ${hostileName}`);
  assert.equal(await page.evaluate(() => window.__hacked), undefined);
  assert.ok((await page.content()).includes("&lt;script&gt;window.__hacked"));
});

test("data matching that cannot work is refused at the field", async () => {
  await page.getByRole("button", { name: "Save" }).click();
  await page.locator("#email-error").getByText("Choose the column").waitFor();
  await page.locator("#segments-error").getByText("Choose at least one segment").waitFor();
  await shot("05-matching-refused");
});

test("data matching, segments, Save, Preview", async () => {
  const options = await page.getByLabel("Email").locator("option").allTextContents();
  assert.deepEqual(options, ["Choose the column", "email", "first_name", "last_name", "company"]);
  await page.getByLabel("Email").selectOption("email");
  await page.getByLabel("First name").selectOption("first_name");
  await page.getByLabel("Last name").selectOption("last_name");
  await page.getByRole("button", { name: "Add field" }).click();
  await page.getByLabel("Autopilot field").fill("Company");
  await page.getByLabel("Column", { exact: true }).selectOption("company");
  await page.getByLabel("VIP Customers").check();
  await page.getByLabel("Lapsed Buyers").check();
  // The HTML-looking file name is a segment named as text.
  await page.getByLabel("<img src=x onerror=alert(1)>").waitFor();
  await shot("06-matching-filled");
  // Preview runs the dry run on the form's choices without saving them.
  const stored = destinationFiles(dataDir);
  await page.getByRole("button", { name: "Preview" }).click();
  const result = page.locator("#preview-result");
  await result.getByText("Within the profile limit").waitFor();
  assert.match(await result.locator(".stat").first().textContent(), /1,300\s*distinct profiles/);
  const rows = await rowsOf(result.locator("tbody tr"));
  assert.deepEqual(rows, [
    ["Lapsed Buyers", "new", "800", "0", "0", "0", "1", "1"],
    ["VIP Customers", "new", "700", "0", "0", "0", "1", "1"],
  ]);
  assert.deepEqual(destinationFiles(dataDir), stored, "Preview saved nothing");
  assert.equal(await page.getByLabel("Email").inputValue(), "email");
  assert.equal(await page.getByLabel("Last name").inputValue(), "last_name");
  assert.equal(await page.getByLabel("Autopilot field").inputValue(), "Company");
  assert.equal(await page.getByLabel("VIP Customers").isChecked(), true);
  assert.equal(await page.getByLabel("<img src=x onerror=alert(1)>").isChecked(), false);
  await shot("06b-matching-preview");
  await page.getByRole("button", { name: "Save" }).click();
  await page.getByText("Saved.").waitFor();
  await shot("07-destination-saved");
  await page.getByRole("link", { name: "Preview" }).click();
  await page.getByText("Within the profile limit").waitFor();
  const distinct = await page.locator(".stat").first().textContent();
  assert.match(distinct, /1,300\s*distinct profiles/);
  await shot("08-preview");
  assert.deepEqual(dialogs, []);
});

test("Export now shows progress, then succeeded; the sandbox holds exactly the lists", async () => {
  await page.getByRole("link", { name: /^Back to/ }).click();
  // Slow answers so that the export runs long enough to be watched.
  await sandboxFaults({ slow_rate: 1, slow_ms: 1500 });
  await page.getByRole("button", { name: "Export now" }).click();
  const bar = page.getByRole("progressbar");
  await bar.waitFor();
  // The script polls the progress: the total is the contacts the plan holds, and a rate is shown.
  await page.getByText(/^[\d,]+ of 1,500 contacts sent · \d+ contacts\/s/).waitFor();
  assert.equal(await bar.getAttribute("max"), "1500");
  await shot("09-export-running");
  await page.locator("#latest").locator("..").getByText("succeeded", { exact: true }).waitFor({ timeout: 120_000 });
  await sandboxFaults({});
  await shot("10-export-succeeded");
  const state = await sandboxState();
  for (const segment of [vip, lapsed]) {
    const list = state.lists.find((l) => l.title === segment.name);
    assert.ok(list, `no list ${segment.name}`);
    assert.deepEqual([...list.members].map((m) => m.toLowerCase()).sort(), expected(segment));
  }
  const report = await page.locator("#latest").locator("..").locator("tfoot").textContent();
  assert.match(report, /All segments/);
});

test("a second export adds to the history, newest first", async () => {
  await page.getByRole("button", { name: "Export now" }).click();
  const rows = page.locator("#history tbody tr");
  await rows.nth(1).waitFor({ timeout: 120_000 });
  const times = await rows.locator("th").allTextContents();
  assert.ok(times[0] >= times[1], `newest first: ${times}`);
  // The second export found everything unchanged: it sent nothing, the first sent every contact.
  const sent = await rows.locator("td:nth-of-type(4)").allTextContents();
  assert.deepEqual(sent, ["0", "1,500"]);
  // Both were started here: the history says so.
  assert.deepEqual(await rows.locator(".by").allTextContents(), ["by console", "by console"]);
  assert.deepEqual(await rows.locator(".badge").allTextContents(), ["succeeded", "succeeded"]);
  await shot("11-history");
});

test("rejected.csv downloads with the refused rows", async () => {
  const [download] = await Promise.all([
    page.waitForEvent("download"),
    page.getByRole("link", { name: "Download rejected.csv" }).click(),
  ]);
  const text = fs.readFileSync(await download.path(), "utf8");
  assert.match(text, /not-an-email/);
  assert.equal(text.split("\n").filter((l) => l.includes("not-an-email")).length, 2);
});

test("a page of another origin cannot reset the sandbox: its post is refused", async () => {
  const before = (await sandboxState()).contacts.length;
  assert.ok(before > 0);
  const attacker = http.createServer((_, res) => {
    res.setHeader("content-type", "text/html");
    res.end("<p>Win a prize</p>");
  });
  await new Promise((resolve) => attacker.listen(0, "127.0.0.1", resolve));
  const other = await context.newPage();
  try {
    await other.goto(`http://127.0.0.1:${attacker.address().port}/`);
    // What any page may send to any address without asking it first: a no-cors post of text.
    const [answer] = await Promise.all([
      other.waitForResponse(`${sandboxUrl}/admin/reset`),
      other.evaluate((url) => fetch(url, { method: "POST", mode: "no-cors", body: "{}" }).catch(() => {}),
        `${sandboxUrl}/admin/reset`),
    ]);
    assert.equal(answer.status(), 403);
  } finally {
    await other.close();
    attacker.close();
  }
  assert.equal((await sandboxState()).contacts.length, before, "nothing was reset");
});

/** The Verify card's table, by segment: [expected, present, missing, unsubscribed, foreign, …]. */
const verifyTable = () => rowsByName(page.locator("#verify tbody tr"));

test("Verify reports members removed and unsubscribed by hand; Repair puts them back", async () => {
  const vipList = (await sandboxState()).lists.find((l) => l.title === vip.name);
  // Members 0 to 499 are in VIP Customers only: 5 taken off the list, 3 others unsubscribed.
  for (let i = 10; i < 15; i++) await admin.done("DELETE", `lists/${vipList.list_id}/members/person${i}@example.com`);
  for (let i = 20; i < 23; i++) await admin.done("POST", `contacts/person${i}@example.com/unsubscribe`);
  // Slow answers so that the wait can be seen.
  await sandboxFaults({ slow_rate: 1, slow_ms: 300 });
  await page.getByRole("button", { name: "Verify" }).click();
  await page.getByText("Verifying…").waitFor();
  await shot("11b-verifying");
  await page.locator("#verify tbody tr").first().waitFor({ timeout: 60_000 });
  await sandboxFaults({});
  assert.deepEqual(await verifyTable(), {
    "Lapsed Buyers": ["800", "800", "0", "0", "0", "in place"],
    "VIP Customers": ["700", "695", "5", "3", "0", "in place"],
  });
  await page.getByText("5 of the members the last export left are no longer on their lists").waitFor();
  assert.match(await page.locator("#verify-cost").textContent(), /^\d+ requests to Autopilot in [\d.]+ s/);
  await shot("11c-verified");

  await page.getByRole("button", { name: "Repair" }).click();
  await page.getByText("Repaired: 5 members put back on their lists.").waitFor({ timeout: 60_000 });
  await shot("11d-repaired");
  const state = await sandboxState();
  const members = state.lists.find((l) => l.title === vip.name).members.map((m) => m.toLowerCase()).sort();
  assert.deepEqual(members, expected(vip));
  const unsubscribed = state.contacts.filter((c) => c.unsubscribed).map((c) => c.Email).sort();
  assert.deepEqual(unsubscribed, ["person20@example.com", "person21@example.com", "person22@example.com"]);

  await page.getByRole("button", { name: "Verify" }).click();
  await page.getByText("Repaired:").waitFor({ state: "detached" });
  await page.getByText("Every list holds every member the last export left on it.").waitFor();
  assert.deepEqual((await verifyTable())["VIP Customers"], ["700", "700", "0", "3", "0", "in place"]);
  assert.equal(await page.getByRole("button", { name: "Repair" }).count(), 0);
});

test("schedule and guardrails are saved", async () => {
  await page.getByLabel("Export on the schedule").check();
  await page.getByLabel("Removal guardrail (%)").fill("30");
  await page.getByRole("button", { name: "Save schedule and guardrails" }).click();
  await page.getByText("Schedule and guardrails saved.").waitFor();
  assert.equal(await page.getByLabel("Removal guardrail (%)").inputValue(), "30");
  assert.equal(await page.getByLabel("Export on the schedule").isChecked(), true);
  await page.goto(`${origin}/`);
  await page.getByText("When you ask (schedules run on a deployed stack)").waitFor();
  await shot("12-destinations-list");
});

test("a folder of parts and a data-lake entity are offered as segments and export", async () => {
  unloadParts();
  await page.getByRole("link", { name: hostileName }).click();
  await page.getByRole("link", { name: "Edit data matching and segments" }).click();
  // Offered with what they are; the data folder is never offered.
  await page.locator("#segment-0").waitFor();
  const offered = await page.locator(".segments .check").allTextContents();
  const shown = offered.map((t) => t.replace(/\s+/g, " ").trim());
  assert.ok(shown.includes("Churn Risk (folder of 2 parts)"), shown.join(" | "));
  assert.ok(shown.includes("Winback (entity of lake/model.json)"), shown.join(" | "));
  assert.ok(shown.includes("VIP Customers (CSV file)"), shown.join(" | "));
  await page.getByLabel("Churn Risk").check();
  await page.getByLabel("Winback").check();
  await shot("12b-matching-folder-and-entity");
  await page.getByRole("button", { name: "Save" }).click();
  await page.getByText("Saved.").waitFor();
  await page.getByRole("button", { name: "Export now" }).click();
  const rows = page.locator("#history tbody tr");
  await rows.nth(2).waitFor({ timeout: 120_000 });
  await page.locator("#latest").locator("..").getByText("succeeded", { exact: true }).waitFor({ timeout: 120_000 });
  await shot("12c-exported-folder-and-entity");
  const state = await sandboxState();
  for (const segment of [churn, winback]) {
    const list = state.lists.find((l) => l.title === segment.name);
    assert.ok(list, `no list ${segment.name}`);
    assert.deepEqual([...list.members].map((m) => m.toLowerCase()).sort(), expected(segment));
  }
  await page.goto(`${origin}/`);
});

test("a backslash-escaped unload is read value by value once the box is ticked", async () => {
  // Snowflake's unload without quotes: a comma in a value is escaped, and NULL is \N.
  const escaped = { name: "Escaped Unload", from: 1500, to: 1520 };
  const lines = ["email,first_name,last_name,company"];
  for (let i = escaped.from; i < escaped.to; i++) lines.push(`person${i}@example.com,First${i},\\N,Acme\\, Inc. ${i}`);
  fs.writeFileSync(path.join(snapshotsDir, `${escaped.name}.csv`), lines.join("\n") + "\n");
  await page.getByRole("link", { name: hostileName }).click();
  await page.getByRole("link", { name: "Edit data matching and segments" }).click();
  await page.getByLabel(escaped.name).check();
  const box = page.getByLabel("Values are backslash-escaped");
  assert.equal(await box.isChecked(), false);
  await box.check();
  await page.getByRole("button", { name: "Save" }).click();
  await page.getByText("Saved.").waitFor();
  await page.getByRole("link", { name: "Edit data matching and segments" }).click();
  assert.equal(await page.getByLabel("Values are backslash-escaped").isChecked(), true);
  await shot("12d-matching-backslash-escaped");
  await page.getByRole("link", { name: "Cancel" }).click();
  await page.getByRole("button", { name: "Export now" }).click();
  await page.locator("#history tbody tr").nth(3).waitFor({ timeout: 120_000 });
  await page.locator("#latest").locator("..").getByText("succeeded", { exact: true }).waitFor({ timeout: 120_000 });
  const state = await sandboxState();
  const list = state.lists.find((l) => l.title === escaped.name);
  assert.ok(list, `no list ${escaped.name}`);
  assert.deepEqual([...list.members].map((m) => m.toLowerCase()).sort(), expected(escaped));
  const contact = state.contacts.find((c) => c.Email === `person${escaped.from}@example.com`);
  assert.equal(contact?.Company, `Acme, Inc. ${escaped.from}`, JSON.stringify(contact));
  assert.equal(contact?.LastName, undefined, "\\N is an empty cell, not a name");
  await page.goto(`${origin}/`);
});

test("the key never appears in any page, answer, file or log line", async () => {
  assert.ok(answers.length > 10);
  assertKeyKept(sandboxKey, { answers, logs: consoleLog, dataDir, stored: 1 });
  assertKeyKept(refusedKey, { answers, logs: consoleLog, dataDir, stored: 0 });
});

test("Remove destination asks first, then the destination and its key are gone", async () => {
  await page.getByRole("link", { name: hostileName }).click();
  await page.getByRole("link", { name: "Remove destination" }).click();
  await shot("13-remove-confirm");
  await page.getByRole("button", { name: "Remove destination" }).click();
  await page.getByText(/^Removed /).waitFor();
  await page.getByText("No destination yet").waitFor();
  await shot("14-removed");
  assert.deepEqual(filesHolding(dataDir, sandboxKey), []);
  assert.deepEqual(files(path.join(dataDir, "destinations")), []);
  assert.deepEqual(dialogs, []);
});
