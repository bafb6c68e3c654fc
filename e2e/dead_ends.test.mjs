// A friend who lands on a dead end (an unknown or ended invite, a typo in the code) is led
// somewhere useful by the buttons on the page, at phone width, and never to the owner's sign-in.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { startDemo, launchBrowser, shotsDir, PHONE } from "./harness.mjs";

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

test("from an unknown invite, a friend reaches the code box, then the request form", async () => {
  const friend = await browser.newContext({ viewport: PHONE, isMobile: true, hasTouch: true });
  const page = await friend.newPage();
  const res = await page.goto(`${demo.base}/i/NOSUCHCODE`);
  assert.equal(res.status(), 404);
  assert.equal(await page.textContent("h1"), "Unknown invite");
  assert.ok(!(await page.isVisible("text=/Error 40/")), "no status eyebrow");
  assert.equal(await page.locator("a[href='/login']").count(), 0, "never the owner's sign-in");
  await page.screenshot({ path: join(shotsDir, "dead-end-unknown-phone.png"), fullPage: true });

  await Promise.all([page.waitForURL(/\/join$/), page.click("text=Enter an invite code")]);
  await page.fill("#code", "typo-code");
  await page.click("form[action='/join'] button[type=submit]");
  assert.equal(await page.inputValue("#code"), "typo-code", "the box keeps what was typed");
  assert.ok(await page.isVisible("#code-error >> text=does not exist"), "the mistake is said next to the box");
  await page.screenshot({ path: join(shotsDir, "join-typo-phone.png"), fullPage: true });

  await Promise.all([page.waitForURL(/\/request$/), page.click("text=Ask for access")]);
  assert.ok(await page.isVisible("form[action='/request']"));

  // The logo leads a friend to the guide.
  await Promise.all([page.waitForURL(/\/guide$/), page.click("header a.brand")]);
  assert.ok(await page.isVisible("a[href='/request']"), "requests are open in the demo");
  await friend.close();
});

test("a typo in the demo invite's code still finds it, case and spaces aside", async () => {
  const friend = await browser.newContext({ viewport: PHONE, isMobile: true, hasTouch: true });
  const page = await friend.newPage();
  const code = new URL(demo.invite).pathname.split("/").pop();
  await page.goto(`${demo.base}/join`);
  await page.fill("#code", ` ${code.toLowerCase()} `);
  await Promise.all([page.waitForURL(new RegExp(`/i/${code}$`)), page.click("form[action='/join'] button[type=submit]")]);
  assert.ok(await page.isVisible("text=Demo Jellyfin"));
  await friend.close();
});
