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
  assert.ok(await page.isVisible("text=1 of 2 used"));
  await owner.close();
  await friend.close();
});

test("with a public address set in Settings, the copied invite link uses it", async () => {
  const owner = await browser.newContext({ viewport: PHONE, isMobile: true, hasTouch: true });
  await owner.grantPermissions(["clipboard-read", "clipboard-write"], { origin: demo.base });
  const page = await owner.newPage();
  await signIn(page, demo.base, demo.user, demo.password);
  assert.ok(await page.isVisible("text=friends cannot use them"), "demo links point at loopback");
  await page.goto(`${demo.base}/admin/settings/general`);
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
  await page.goto(`${demo.base}/admin/settings/general`);
  await page.fill("#public_url", "");
  await Promise.all([page.waitForURL(/done=general/), page.click("form[action='/admin/settings/general'] button[type=submit]")]);
  await owner.close();
});

test("on the mixed demo invite, a mistake in every field is named at once and fixed in one retry", async () => {
  const friend = await browser.newContext({ viewport: PHONE, isMobile: true, hasTouch: true });
  const page = await friend.newPage();
  await page.goto(demo.invite);
  assert.ok(await page.isVisible("legend:has-text('Demo Plex: your Plex account')"));
  assert.ok(await page.isVisible("legend:has-text('Demo Jellyfin: choose your login')"));

  // The browser itself stops what the form declares (a character a username cannot have).
  await page.fill("#plex_account", "someone@example.com");
  await page.fill("#username", "bad/name");
  await page.fill("#password", "a good password");
  await page.fill("#password_confirm", "a good password");
  await page.click("form.redeem button.primary");
  assert.equal(await page.evaluate(() => document.querySelector("#username").validity.patternMismatch), true);
  assert.match(page.url(), /\/i\/[A-Z0-9]+$/, "no round trip");

  // Mistakes only the server can see come back together, each next to its field.
  await page.fill("#plex_account", "not an account!");
  await page.fill("#username", ".");
  await page.fill("#password_confirm", "a different one");
  await page.fill("#email", "someone@nodot");
  await page.click("form.redeem button.primary");
  await page.waitForSelector(".field-error");
  for (const field of ["plex_account", "username", "password_confirm", "email"]) {
    assert.ok(await page.isVisible(`#${field}-error`), `${field} has its own message`);
    assert.equal(await page.getAttribute(`#${field}`, "aria-invalid"), "true");
  }
  assert.equal(await page.locator(".alert.error").count(), 1);
  await page.screenshot({ path: join(shotsDir, "invite-mistakes-phone.png"), fullPage: true });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `the page is ${overflow}px wider than the phone`);

  // One retry with everything fixed.
  await page.fill("#plex_account", "carol@example.com");
  await page.fill("#username", "carol-jf");
  await page.fill("#password", "a good password");
  await page.fill("#password_confirm", "a good password");
  await page.fill("#email", "carol@example.com");
  await Promise.all([page.waitForURL(/\/welcome\?m=/), page.click("form.redeem button.primary")]);
  assert.match(await page.textContent("h1"), /Welcome, carol-jf/);
  await friend.close();
});

test("on a phone, the owner limits a Plex invite with a content filter and sees it on the invite", async () => {
  const owner = await browser.newContext({ viewport: PHONE, isMobile: true, hasTouch: true });
  const page = await owner.newPage();
  await signIn(page, demo.base, demo.user, demo.password);
  await page.goto(`${demo.base}/admin/invites/new`);
  await keepOnlyServers(page, "Plex");
  const plex = page.locator(".server-block", { hasText: "Demo Plex" });
  await plex.locator("details.filters > summary").click();
  // A mistake is named and what was typed stays.
  await plex.locator("input[name^=filter_movies_]").fill("year=1999");
  await page.click("form.card button[type=submit]");
  assert.ok(await page.isVisible("text=filters know rating"));
  const again = page.locator(".server-block", { hasText: "Demo Plex" });
  assert.equal(await again.locator("input[name^=filter_movies_]").inputValue(), "year=1999");
  await page.screenshot({ path: join(shotsDir, "invite-filter-error-phone.png"), fullPage: true });

  await again.locator("input[name^=filter_movies_]").fill("rating=G,PG");
  await again.locator("input[name^=filter_television_]").fill("label!=horror");
  await Promise.all([page.waitForURL(/\/admin\/invites\/[A-Z0-9]+\?done=created/), page.click("form.card button[type=submit]")]);
  const summary = await page.textContent(".permission-summary");
  assert.match(summary, /Movies: rating=G,PG/);
  assert.match(summary, /TV shows: label!=horror/);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `the invite page is ${overflow}px wider than the phone`);
  await page.screenshot({ path: join(shotsDir, "invite-filter-phone.png"), fullPage: true });
  await owner.close();
});

test("the invite form offers each server what its kind can do, and keeps what is chosen", async () => {
  const owner = await browser.newContext({ viewport: PHONE, isMobile: true, hasTouch: true });
  const page = await owner.newPage();
  await signIn(page, demo.base, demo.user, demo.password);
  await page.goto(`${demo.base}/admin/invites/new`);
  const block = (name) => page.locator(".server-block", { hasText: name });
  const plex = block("Demo Plex");
  const jellyfin = block("Demo Jellyfin");
  // Plex: camera upload, Home users and content filters; no stream limit.
  assert.equal(await plex.locator("input[name^=camera_]").count(), 1);
  assert.equal(await plex.locator("input[name^=home_]").count(), 1);
  assert.equal(await plex.locator("text=Content filters").count(), 1);
  assert.equal(await plex.locator("input[name^=max_sessions_]").count(), 0);
  // Jellyfin: a stream limit; none of Plex's own.
  assert.equal(await jellyfin.locator("input[name^=max_sessions_]").count(), 1);
  assert.equal(await jellyfin.locator("input[name^=camera_]").count(), 0);
  assert.equal(await jellyfin.locator("input[name^=home_]").count(), 0);
  assert.equal(await jellyfin.locator("text=Content filters").count(), 0);
  await page.screenshot({ path: join(shotsDir, "invite-form-kinds-phone.png"), fullPage: true });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `invite form is ${overflow}px wider than the phone`);

  await plex.locator("input[name=server]").check();
  await plex.locator("input[name^=camera_]").check();
  await jellyfin.locator("input[name^=max_sessions_]").fill("2");
  await Promise.all([page.waitForURL(/\/admin\/invites\/[A-Z0-9]+\?done=created/), page.click("form.card button[type=submit]")]);
  const summaries = await page.locator(".permission-summary").allTextContents();
  assert.ok(summaries.some((s) => s.includes("camera upload")), summaries.join(" | "));
  assert.ok(summaries.some((s) => s.includes("Simultaneous streams: 2")), summaries.join(" | "));
  await page.screenshot({ path: join(shotsDir, "invite-kinds-detail-phone.png"), fullPage: true });
  await owner.close();
});
