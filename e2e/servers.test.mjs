// The owner connects an Emby server from a phone, tests it and sees its libraries.
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

test("adding an Emby server in the browser at phone width", async () => {
  const context = await browser.newContext({ viewport: PHONE, isMobile: true, hasTouch: true });
  const page = await context.newPage();
  await signIn(page, demo.base, demo.user, demo.password);
  await page.goto(`${demo.base}/admin/servers`);
  assert.ok(await page.isVisible("text=Demo Plex"));
  assert.ok(await page.isVisible("text=Demo Jellyfin"));
  await page.screenshot({ path: join(shotsDir, "servers-phone.png"), fullPage: true });

  await page.goto(`${demo.base}/admin/servers/new`);
  // A wrong key is explained and nothing is saved.
  await page.check("input[name=kind][value=emby]");
  await page.fill("#name", "Living room Emby");
  await page.fill("#url", demo.embyUrl);
  await page.fill("#token", "not-the-key");
  await page.click("form[action='/admin/servers'] button[type=submit]");
  assert.ok(await page.isVisible("text=refused the token"));
  assert.equal(await page.inputValue("#name"), "Living room Emby");

  await page.fill("#token", demo.embyKey);
  await Promise.all([page.waitForURL(/\/admin\/servers\/\d+\?done=added/), page.click("form[action='/admin/servers'] button[type=submit]")]);
  assert.ok(await page.isVisible("text=Server connected and libraries scanned"));
  assert.ok(await page.isVisible("td >> text=Movies"));
  await page.screenshot({ path: join(shotsDir, "server-added-phone.png"), fullPage: true });

  await Promise.all([page.waitForURL(/done=tested/), page.click("button:has-text('Test connection')")]);
  assert.ok(await page.isVisible("text=Connection works"));
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `server page is ${overflow}px wider than the phone`);
  await context.close();
});
