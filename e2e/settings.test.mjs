// The owner changes settings from a phone, one section at a time: a wrong value is shown inside
// its own section with what was typed gone nowhere else, a right one saves with a notice, the
// Telegram test reaches the chat, and what friends see follows the owner's name.
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

test("settings are saved section by section at phone width, and a bad value is named in its section", async () => {
  const context = await browser.newContext({ viewport: PHONE });
  const page = await context.newPage();
  await signIn(page, demo.base, demo.user, demo.password);
  await page.goto(`${demo.base}/admin/settings`);

  // General: the owner's name, which friend pages carry.
  await page.fill("#owner_name", "Ana María");
  await Promise.all([
    page.waitForURL(/done=general/),
    page.click("#general button[type=submit]"),
  ]);
  assert.match(await page.locator(".alert.ok").innerText(), /Saved\./);

  // Requests: a duration usher cannot read stays on the page, named inside the section.
  await page.fill("#access_duration", "a while");
  await page.click("#requests button[type=submit]");
  const alert = page.locator("#requests .alert.error");
  await alert.waitFor();
  assert.match(await alert.innerText(), /30d|duration/i);
  assert.equal(await page.locator("#general .alert.error").count(), 0, "only the section at fault");
  await page.locator("#requests").screenshot({ path: join(shotsDir, "settings-requests-error-phone.png") });

  await page.fill("#access_duration", "30d");
  await page.fill("#expiry_hours", "48");
  await Promise.all([
    page.waitForURL(/done=requests/),
    page.click("#requests button[type=submit]"),
  ]);
  assert.match(await page.locator(".alert.ok").innerText(), /Request form settings saved/);
  assert.equal(await page.inputValue("#access_duration"), "30d");
  assert.equal(await page.inputValue("#expiry_hours"), "48");

  // Telegram: the test message goes to the demo's chat.
  await Promise.all([
    page.waitForURL(/done=telegram-test/),
    page.click("form[action='/admin/settings/telegram/test'] button"),
  ]);
  assert.match(await page.locator(".alert.ok").innerText(), /Test message sent/);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `the settings page is ${overflow}px wider than the phone`);
  await page.screenshot({ path: join(shotsDir, "settings-saved-phone.png"), fullPage: true });

  // A friend's guide names the owner as saved.
  const friend = await browser.newContext({ viewport: PHONE });
  const guide = await friend.newPage();
  await guide.goto(`${demo.base}/guide`);
  assert.match(await guide.locator("main").innerText(), /Ana María/);
  await friend.close();
  await context.close();
});
