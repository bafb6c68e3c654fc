// The owner creates an invite; a friend redeems it on a phone.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { startDemo, launchBrowser, signIn, shotsDir, PHONE, DESKTOP, keepOnlyServers } from "./harness.mjs";

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
  await keepOnlyServers(page, "Jellyfin");
  await page.fill("#uses", "2");
  await page.fill("#label", "Phone test");
  await Promise.all([page.waitForURL(/\/admin\/invites\/[A-Z0-9]+\?done=created/), page.click("form.card button[type=submit]")]);
  assert.ok(await page.isVisible("text=Invite created"));
  assert.ok(await page.isVisible(".qr svg"), "QR code shown");
  const link = await page.inputValue("#invite-url");
  await page.screenshot({ path: join(shotsDir, "invite-detail-desktop.png"), fullPage: true });
  // Copy puts the link on the clipboard as shown.
  await owner.grantPermissions(["clipboard-read", "clipboard-write"], { origin: demo.base });
  await page.click("button[data-copy]");
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), link);

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

test("with a public address set in Settings, the copied invite link uses it", async () => {
  const owner = await browser.newContext({ viewport: PHONE, isMobile: true, hasTouch: true });
  await owner.grantPermissions(["clipboard-read", "clipboard-write"], { origin: demo.base });
  const page = await owner.newPage();
  await signIn(page, demo.base, demo.user, demo.password);
  assert.ok(await page.isVisible("text=friends cannot use them"), "demo links point at loopback");
  await page.goto(`${demo.base}/admin/settings`);
  await page.fill("#public_url", "https://watch.example.com");
  await Promise.all([page.waitForURL(/done=general/), page.click("form[action='/admin/settings/general'] button[type=submit]")]);
  assert.ok(!(await page.isVisible("text=friends cannot use them")));

  await page.goto(`${demo.base}/admin/invites/new`);
  await Promise.all([page.waitForURL(/\/admin\/invites\/[A-Z0-9]+\?done=created/), page.click("form.card button[type=submit]")]);
  const code = new URL(page.url()).pathname.split("/").pop();
  await page.click("button[data-copy]");
  const copied = await page.evaluate(() => navigator.clipboard.readText());
  assert.equal(copied, `https://watch.example.com/i/${code}`);
  await page.screenshot({ path: join(shotsDir, "invite-public-url-phone.png"), fullPage: true });

  // Put it back for the other tests, which open links on this machine.
  await page.goto(`${demo.base}/admin/settings`);
  await page.fill("#public_url", "");
  await Promise.all([page.waitForURL(/done=general/), page.click("form[action='/admin/settings/general'] button[type=submit]")]);
  await owner.close();
});
