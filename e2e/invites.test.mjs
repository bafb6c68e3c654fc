// The owner creates an invite; a friend redeems it on a phone.
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

test("an invite created by the owner is redeemed at phone width", async () => {
  const owner = await browser.newContext({ viewport: DESKTOP });
  const page = await owner.newPage();
  await signIn(page, demo.base, demo.user, demo.password);

  await page.goto(`${demo.base}/admin/invites/new`);
  // Only the Jellyfin server, two uses.
  const servers = page.locator("input[name=server]");
  const count = await servers.count();
  for (let i = 0; i < count; i++) {
    const box = servers.nth(i);
    const label = await box.evaluate((el) => el.parentElement.textContent);
    if (label.includes("Jellyfin")) await box.check();
    else await box.uncheck();
  }
  await page.fill("#uses", "2");
  await page.fill("#label", "Phone test");
  await Promise.all([page.waitForURL(/\/admin\/invites\/[A-Z0-9]+\?done=created/), page.click("form.card button[type=submit]")]);
  assert.ok(await page.isVisible("text=Invite created"));
  assert.ok(await page.isVisible(".qr svg"), "QR code shown");
  const link = await page.inputValue("#invite-url");
  await page.screenshot({ path: join(shotsDir, "invite-detail-desktop.png"), fullPage: true });

  const friend = await browser.newContext({ viewport: PHONE, isMobile: true, hasTouch: true });
  const phone = await friend.newPage();
  await phone.goto(link);
  assert.ok(await phone.isVisible("text=Demo Jellyfin"));
  await phone.screenshot({ path: join(shotsDir, "invite-phone.png"), fullPage: true });
  const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `invite page is ${overflow}px wider than the phone`);

  await phone.fill("#username", "phonefriend");
  await phone.fill("#password", "a good password");
  await phone.fill("#password_confirm", "a good password");
  await Promise.all([phone.waitForURL(/\/welcome\?m=/), phone.click("form[action^='/i/'] button[type=submit] >> nth=-1")]);
  assert.match(await phone.textContent("h1"), /Welcome, phonefriend!/);
  await phone.screenshot({ path: join(shotsDir, "welcome-phone.png"), fullPage: true });

  // The owner sees the redemption.
  await page.reload();
  assert.ok(await page.isVisible("text=phonefriend"));
  assert.ok(await page.isVisible("text=Redeemed 1/2"));
  await owner.close();
  await friend.close();
});
