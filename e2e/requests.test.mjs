// A friend asks for access on a phone; the owner approves it in the web queue.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { startDemo, launchBrowser, signIn, shotsDir, PHONE, DESKTOP } from "./harness.mjs";

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

test("the request form works at phone width and the owner approves in the queue", async () => {
  const friend = await browser.newContext({ viewport: PHONE, isMobile: true, hasTouch: true });
  const phone = await friend.newPage();
  await phone.goto(`${demo.base}/request`);
  await phone.screenshot({ path: join(shotsDir, "request-phone.png"), fullPage: true });
  const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `request page is ${overflow}px wider than the phone`);

  // A mistake is explained and what was typed is kept.
  await phone.fill("#name", "Paula");
  await phone.fill("#email", "not an email");
  await phone.click("form[action='/request'] button[type=submit]");
  assert.ok(await phone.isVisible("text=does not look right"));
  assert.equal(await phone.inputValue("#name"), "Paula");

  await phone.fill("#email", "alice@example.com");
  await phone.fill("#note", "Alice's sister");
  await Promise.all([phone.waitForURL(/\/request\/sent/), phone.click("form[action='/request'] button[type=submit]")]);
  assert.match(await phone.textContent("h1"), /Request sent/);
  await phone.screenshot({ path: join(shotsDir, "request-sent-phone.png"), fullPage: true });

  const owner = await browser.newContext({ viewport: DESKTOP });
  const page = await owner.newPage();
  await signIn(page, demo.base, demo.user, demo.password);
  assert.ok(await page.isVisible("text=waiting for your decision"));
  await page.goto(`${demo.base}/admin/requests`);
  assert.ok(await page.isVisible("text=Alice's sister"));
  await page.screenshot({ path: join(shotsDir, "requests-desktop.png"), fullPage: true });
  await Promise.all([
    page.waitForURL(/done=approved/),
    page.click(".request[data-status=pending] form[action$='/approve'] button[type=submit]"),
  ]);
  assert.ok(await page.isVisible("text=Approved. The access is being set up"));
  assert.ok(await page.isVisible(".request[data-status=approved]"));
  await owner.close();
  await friend.close();
});
