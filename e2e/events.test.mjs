// The owner downloads the events log as CSV in a real browser, which asks for gzip: the file
// arrives whole.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { startDemo, launchBrowser, signIn, shotsDir, PHONE } from "./harness.mjs";

let browser;
let demo;
before(async () => {
  browser = await launchBrowser();
  demo = await startDemo();
});
after(async () => {
  await browser?.close();
  await demo?.stop();
});

test("Events → Download CSV saves the whole log", async () => {
  const owner = await browser.newContext({ viewport: PHONE, isMobile: true, hasTouch: true, acceptDownloads: true });
  const page = await owner.newPage();
  await signIn(page, demo.base, demo.user, demo.password);
  await page.goto(`${demo.base}/admin/events`);
  await page.screenshot({ path: join(shotsDir, "events-phone.png"), fullPage: true });
  const [download] = await Promise.all([page.waitForEvent("download"), page.click("a[href^='/admin/events.csv']")]);
  assert.equal(await download.failure(), null, "the download completed");
  assert.match(download.suggestedFilename(), /^usher-events-\d{4}-\d{2}-\d{2}\.csv$/);
  const text = readFileSync(await download.path(), "utf8");
  const lines = text.trim().split(/\r\n/);
  assert.match(lines[0], /^\uFEFF?id,at,actor,action/);
  assert.ok(lines.length > 3, `the demo's events are all there (${lines.length} lines)`);
  assert.ok(text.includes("server.added") || text.includes("invite.created"), text.slice(0, 300));
  await owner.close();
});
