// The owner makes a read-only API key for a dashboard from a phone: the key is shown once,
// listed afterwards by name and scope only, and a write with it is refused.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
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

test("a read-only API key is made at phone width and can read but not change", async () => {
  const context = await browser.newContext({ viewport: PHONE, isMobile: true, hasTouch: true });
  const page = await context.newPage();
  await signIn(page, demo.base, demo.user, demo.password);
  await page.goto(`${demo.base}/admin/api-keys`);
  assert.equal(await page.isChecked("input[name=scope][value=read]"), true, "the narrowest scope is the default");
  await page.fill("#key-name", "kitchen dashboard");
  await page.click("form[action='/admin/api-keys'] button[type=submit]");
  const key = await page.inputValue("#new-key");
  assert.match(key, /^ush_/);
  await page.screenshot({ path: join(shotsDir, "api-key-created-phone.png"), fullPage: true });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `the page is ${overflow}px wider than the phone`);

  await page.goto(`${demo.base}/admin/api-keys`);
  assert.ok(await page.isVisible("td .badge >> text=Read only"));
  assert.equal(await page.locator(`text=${key}`).count(), 0, "never shown again");

  const read = await fetch(`${demo.base}/api/v1/members`, { headers: { "x-api-key": key } });
  assert.equal(read.status, 200);
  const write = await fetch(`${demo.base}/api/v1/invites`, {
    method: "POST",
    headers: { "x-api-key": key, "content-type": "application/json" },
    body: JSON.stringify({ servers: [] }),
  });
  assert.equal(write.status, 403);
  assert.equal((await write.json()).error.code, "forbidden_scope");
  await context.close();
});
