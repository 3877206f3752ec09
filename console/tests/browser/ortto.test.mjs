// The web console with an Ortto destination, in a real browser (Debian's Chromium, driven by
// playwright-core), against the console and the Ortto sandbox that scripts/test-console starts:
// set-up (Account type, Region, Ortto API key), data matching with a custom field, two overlapping
// segments, the destination's region line, Export now and its report, the sandbox's tags and
// fields read through its /admin routes, Verify and Repair, the history (with its Suppressed
// column) and the changes, both tables fitting their cards. Controls are found by their accessible
// names. It runs after console.test.mjs, on the same console and data folder, with segments of
// its own.
//
// Environment: CONSOLE_URL, ORTTO_SANDBOX_URL (http://127.0.0.1:PORT), ORTTO_SANDBOX_KEY,
// ORTTO_SANDBOX_ADMIN_TOKEN, DATA_DIR, SNAPSHOTS_DIR, CONSOLE_LOG (its output files, separated by
// colons), SCREENSHOTS.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { assertFitsItsCard, assertKeyKept, destinationFiles, emails, env, number, openBrowser, rowsByName, rowsOf, sandboxAdmin, screenshots }
  from "./helpers.mjs";

const consoleLink = env("CONSOLE_URL");
const origin = new URL(consoleLink).origin;
const sandboxUrl = env("ORTTO_SANDBOX_URL");
const sandboxKey = env("ORTTO_SANDBOX_KEY");
const admin = sandboxAdmin(sandboxUrl, env("ORTTO_SANDBOX_ADMIN_TOKEN"));
const dataDir = env("DATA_DIR");
const snapshotsDir = env("SNAPSHOTS_DIR");
const consoleLog = env("CONSOLE_LOG");
const refusedKey = "refused-ortto-key-" + Math.random().toString(36).slice(2);
const name = "Ortto Shop";

// Two segments that overlap by 40 people, each with an invalid row and a duplicate; three
// addresses on Ortto's suppression list (two in the first segment only, one in both).
const tiers = ["Gold", "Silver", "Bronze"];
const person = (i) => [`ortto${i}@example.com`, `First${i}`, `Last${i}`, `Co ${i % 5}`, tiers[i % 3]];
const gold = { name: "Gold Members", from: 0, to: 120 };
const readers = { name: "Newsletter Readers", from: 80, to: 200 };
const suppressed = ["ortto7@example.com", "ortto8@example.com", "ortto90@example.com"];
const inSegment = (segment) => emails("ortto", segment.from, segment.to, suppressed);
function snapshotText(segment) {
  const lines = ["email,first_name,last_name,company,tier"];
  for (let i = segment.from; i < segment.to; i++) lines.push(person(i).join(","));
  lines.push("not-an-email,Bad,Row,Nowhere,Gold");
  lines.push(person(segment.from).join(",").toUpperCase());
  return lines.join("\n") + "\n";
}

let browser;
let page;
let answers;
let dialogs;
let shot;

before(async () => {
  for (const segment of [gold, readers]) {
    fs.writeFileSync(path.join(snapshotsDir, `${segment.name}.csv`), snapshotText(segment));
  }
  for (const email of suppressed) await admin.done("PUT", `suppressions/${email}`);
  ({ browser, page, answers, dialogs } = await openBrowser());
  shot = screenshots(page, env("SCREENSHOTS"));
});

after(async () => {
  await browser?.close();
});

/**
 * The page's main text (or `part` of it) names neither Autopilot nor its lists: only the product's
 * name and the set-up page's choice of account type may.
 */
async function inOrttoWords(part = "main") {
  const text = await page.locator(part).textContent();
  assert.doesNotMatch(text, /Autopilot/);
  assert.doesNotMatch(text, /\blists?\b/i);
}

test("Set up offers Ortto: its region and the Ortto API key", async () => {
  await page.goto(consoleLink);
  await page.getByRole("link", { name: "Set up" }).click();
  await page.getByRole("navigation", { name: "Account type" }).getByRole("link", { name: "Ortto" }).click();
  await page.getByRole("heading", { name: "Set up Ortto" }).waitFor();
  const regions = await page.getByLabel("Region").locator("option").allTextContents();
  assert.deepEqual(regions, ["Global (api.ap3api.com)", "Australia (api.au.ap3api.com)", "Europe (api.eu.ap3api.com)"]);
  assert.equal(await page.getByLabel("Autopilot API key").count(), 0);
  await page.getByText('build an audience on "Tag is <segment name>"').waitFor();
  await inOrttoWords("main form");
});

test("a key Ortto refuses shows the error at the field and stores nothing", async () => {
  const before = destinationFiles(dataDir);
  await page.getByLabel("Display name").fill(name);
  await page.getByLabel("Region").selectOption("eu");
  await page.getByLabel("Ortto API key").fill(refusedKey);
  await page.getByLabel("I agree").check();
  await page.getByText("Advanced", { exact: true }).click();
  await page.getByLabel("Ortto API URL").fill(sandboxUrl);
  await page.getByRole("button", { name: "Connect" }).click();
  await page.locator("#api_key-error").getByText("Ortto refused this API key: nothing was stored").waitFor();
  assert.match(await page.locator("#api_key-error").textContent(), /Settings → Data sources → Custom API/);
  assert.equal(await page.getByLabel("Ortto API key").getAttribute("aria-invalid"), "true");
  assert.equal(await page.getByLabel("Ortto API key").inputValue(), "", "the key is not filled back in");
  assert.equal(await page.getByLabel("Region").inputValue(), "eu");
  assert.equal(await page.getByLabel("Display name").inputValue(), name);
  assert.deepEqual(destinationFiles(dataDir), before);
  await shot("ortto-01-set-up-refused-key");
});

test("Connect with the right key, then the export user", async () => {
  await page.getByLabel("Ortto API key").fill(sandboxKey);
  await shot("ortto-02-set-up-filled");
  await page.getByRole("button", { name: "Connect" }).click();
  await page.getByText(/^The key was checked and stored: connected to the Ortto account|^Connected to Ortto\./).waitFor();
  await page.getByRole("button", { name: "Add yourself as export user" }).click();
  await page.getByRole("button", { name: "Next" }).click();
  await page.getByRole("heading", { name: `Data matching for ${name}` }).waitFor();
  const stored = destinationFiles(dataDir).filter(([, text]) => text.includes(name));
  assert.equal(stored.length, 1);
  assert.equal(JSON.parse(stored[0][1]).api, "ortto");
});

test("data matching refuses a standard field Ortto lacks, at the field, and takes a custom field", async () => {
  await inOrttoWords();
  assert.match(await page.locator("#one-time-step").textContent(), /Tag is <segment name>/);
  assert.match(await page.locator("#fields-hint").textContent(), /A standard field Ortto has \(Phone, MailingCity/);
  await page.getByLabel("Email").selectOption("email");
  await page.getByLabel("First name").selectOption("first_name");
  await page.getByLabel("Last name").selectOption("last_name");
  await page.getByRole("button", { name: "Add field" }).click();
  await page.getByLabel("Ortto field").fill("Company");
  await page.getByLabel("Column", { exact: true }).selectOption("company");
  await page.getByLabel(gold.name).check();
  await page.getByLabel(readers.name).check();
  await page.getByRole("button", { name: "Save" }).click();
  await page.locator("#fields-error").getByText("Ortto has no standard field 'Company': type it as a custom field, string--Company").waitFor();
  assert.equal(await page.getByLabel(gold.name).isChecked(), true, "the choices are kept");
  await shot("ortto-03-matching-refused-field");

  await page.getByLabel("Ortto field").fill("string--Loyalty--Tier");
  await page.getByLabel("Column", { exact: true }).selectOption("tier");
  await page.getByRole("button", { name: "Preview" }).click();
  const result = page.locator("#preview-result");
  await result.getByText("Within the profile limit").waitFor();
  assert.deepEqual(await result.locator("thead th").allTextContents(),
    ["Segment", "Tag", "Adds", "Updates", "Unchanged", "Removals", "Invalid", "Duplicates"]);
  assert.deepEqual(await rowsOf(result.locator("tbody tr")), [
    [gold.name, "new", "120", "0", "0", "0", "1", "1"],
    [readers.name, "new", "120", "0", "0", "0", "1", "1"],
  ]);
  await shot("ortto-04-matching-preview");
  await page.getByRole("button", { name: "Save" }).click();
  await page.getByText("Saved.").waitFor();
  await inOrttoWords();
});

test("the destination's page says where its key works: Ortto answers no account name", async () => {
  const summary = page.locator("section.summary dl > div").first();
  assert.equal(await summary.locator("dt").textContent(), "Ortto region");
  // Set up with the sandbox's URL (Advanced), not one of Ortto's regional hosts.
  assert.equal(await summary.locator("dd").textContent(), `Custom API URL (${new URL(sandboxUrl).host})`);
});

test("Export now: the report adds up, with Ortto's suppressed people in their own bucket", async () => {
  await page.getByRole("button", { name: "Export now" }).click();
  await page.locator("#latest").locator("..").getByText("succeeded", { exact: true }).waitFor({ timeout: 120_000 });
  await shot("ortto-05-exported");
  const report = page.locator("#latest").locator("..");
  const heads = await report.locator("thead th").allTextContents();
  assert.deepEqual(heads, ["Segment", "Rows", "Sent", "of which added", "Unchanged", "Invalid", "Duplicates",
    "Rejected by Ortto", "Suppressed by Ortto", "Unsent", "Removed"]);
  const rows = await rowsByName(report.locator("tbody tr, tfoot tr"));
  const column = (cells, head) => number(cells[heads.indexOf(head) - 1]);
  for (const [segment, cells] of Object.entries(rows)) {
    const buckets = ["Sent", "Unchanged", "Invalid", "Duplicates", "Rejected by Ortto", "Suppressed by Ortto", "Unsent"];
    const sum = buckets.reduce((total, head) => total + column(cells, head), 0);
    assert.equal(sum, column(cells, "Rows"), `${segment}: every row in one bucket (${cells})`);
  }
  assert.deepEqual(rows[gold.name].map(number), [122, 117, 117, 0, 1, 1, 0, 3, 0, 0]);
  assert.equal(column(rows[readers.name], "Suppressed by Ortto"), 1);
  assert.equal(column(rows[readers.name], "Sent"), 119);
  // A first export: every person sent is new to the segment's tag.
  assert.equal(column(rows["All segments"], "of which added"), 236);
  assert.equal(column(rows["All segments"], "Sent"), 236);
  await assertFitsItsCard(report.locator("table"));
});

test("the sandbox tags each person with exactly their segments, with the custom field and no consent", async () => {
  const state = await admin.state();
  for (const segment of [gold, readers]) {
    const tag = state.lists.find((l) => l.title === segment.name);
    assert.ok(tag, `no tag ${segment.name}`);
    assert.deepEqual(tag.members.map((m) => m.toLowerCase()).sort(), inSegment(segment));
  }
  const people = state.contacts.filter((p) => p.email.startsWith("ortto"));
  assert.equal(people.length, 197, "one person per address that is not suppressed");
  for (const p of people) {
    const i = Number(p.email.match(/^ortto(\d+)@/)[1]);
    const want = [gold, readers].filter((s) => i >= s.from && i < s.to).map((s) => s.name);
    assert.deepEqual([...p.tags].sort(), want, p.email);
    assert.equal(p.fields["str::first"], `First${i}`);
    assert.equal(p.fields["str:cm:loyalty-tier"], tiers[i % 3], JSON.stringify(p.fields));
    assert.equal(p["bol::p"], true, "Ortto's default subscription, untouched");
    assert.deepEqual(Object.keys(p.fields).filter((f) => f.startsWith("bol::") || f.endsWith("-ctx")), []);
  }
  const counters = await admin.counters();
  assert.equal(counters.consent_fields_received, 0, "no consent field was sent");
});

test("Verify reads the tags back, says what is missing, and Repair puts it back", async () => {
  await admin.done("DELETE", `people/ortto3@example.com/tags/${encodeURIComponent(gold.name)}`);
  await admin.done("POST", "people/ortto4@example.com/unsubscribe");
  await page.getByRole("heading", { name: "What Ortto holds" }).waitFor();
  assert.match(await page.locator("#verify #one-time-step").textContent(), /Tag is <segment name>/);
  await page.getByRole("button", { name: "Verify" }).click();
  await page.locator("#verify tbody tr").first().waitFor({ timeout: 60_000 });
  assert.deepEqual(await page.locator("#verify thead th").allTextContents(),
    ["Segment", "Expected", "Present", "Missing", "Unsubscribed", "Foreign", "Tag"]);
  assert.deepEqual(await rowsByName(page.locator("#verify tbody tr")), {
    [gold.name]: ["117", "116", "1", "1", "0", "in place"],
    [readers.name]: ["119", "119", "0", "0", "0", "in place"],
  });
  await page.getByText("1 of the members the last export left are no longer on their tags").waitFor();
  assert.match(await page.locator("#verify-cost").textContent(), /^\d+ requests to Ortto in [\d.]+ s/);
  await inOrttoWords();
  await shot("ortto-06-verified");

  await page.getByRole("button", { name: "Repair" }).click();
  await page.getByText("Repaired: 1 member put back on their tags.").waitFor({ timeout: 60_000 });
  await shot("ortto-07-repaired");
  const tag = (await admin.state()).lists.find((l) => l.title === gold.name);
  assert.deepEqual(tag.members.map((m) => m.toLowerCase()).sort(), inSegment(gold));
  await page.getByRole("button", { name: "Verify" }).click();
  await page.getByText("Repaired:").waitFor({ state: "detached" });
  await page.getByText("Every tag holds every member the last export left on it.").waitFor({ timeout: 60_000 });
  assert.deepEqual((await rowsByName(page.locator("#verify tbody tr")))[gold.name], ["117", "117", "0", "1", "0", "in place"]);
});

test("the history lists the export with its suppressed people, and Changes each step, newest first", async () => {
  const history = page.locator("#history");
  assert.deepEqual(await history.locator("thead th").allTextContents(),
    ["Finished", "Status", "Duration", "Rows", "Sent", "Invalid", "Rejected", "Suppressed", "Removed", "Refused rows"]);
  const runs = await rowsOf(history.locator("tbody tr"));
  assert.equal(runs.length, 1);
  assert.match(runs[0][1], /^succeeded\s*by console$/);
  // The export's totals: 3 suppressed in the first segment and 1 in the second.
  assert.deepEqual(runs[0].slice(3, 9), ["244", "236", "2", "0", "4", "0"]);
  await assertFitsItsCard(history);
  const changes = await rowsOf(page.locator("#changes tbody tr"));
  const what = changes.map((c) => c[2]);
  assert.deepEqual(what, ["verify", "verify", "verify", "export", "configure", "configure", "connect"]);
  assert.deepEqual(changes.map((c) => c[3]).slice(0, 3), ["verify", "verify, repair", "verify"]);
  assert.match(changes[3][3], /^export \S+/);
  assert.equal(changes[4][3], "segments: 2");
  assert.match(changes[5][3], /^export user/);
  assert.equal(changes[6][3], "API key checked and stored");
  await shot("ortto-08-history-and-changes");
});

test("the Ortto key never appears in any page, answer or log line", async () => {
  assert.ok(answers.length > 10);
  assertKeyKept(sandboxKey, { answers, logs: consoleLog, dataDir, stored: 1 });
  assertKeyKept(refusedKey, { answers, logs: consoleLog, dataDir, stored: 0 });
});

test("Remove destination: its key goes, its tags and people stay in Ortto", async () => {
  await page.getByRole("link", { name: "Remove destination" }).click();
  await page.getByText("The tags and contacts already in Ortto stay there.", { exact: false }).waitFor();
  await page.getByRole("button", { name: "Remove destination" }).click();
  await page.getByText(/^Removed .*its API key is deleted/).waitFor();
  assertKeyKept(sandboxKey, { answers: [], logs: consoleLog, dataDir, stored: 0 });
  const state = await admin.state();
  assert.ok(state.lists.some((l) => l.title === gold.name));
  assert.deepEqual(dialogs, []);
});
