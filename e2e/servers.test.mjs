// The owner connects servers from a phone (Emby, Audiobookshelf, Navidrome, Komga, RomM, Kavita), tests them and sees their
// libraries; friends join the Audiobookshelf, Komga and Kavita ones.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { startDemo, launchBrowser, signIn, keepOnlyServers, shotsDir, PHONE } from "./harness.mjs";

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
  assert.ok(await page.isVisible(".library-name >> text=Movies"));
  await page.screenshot({ path: join(shotsDir, "server-added-phone.png"), fullPage: true });

  await Promise.all([page.waitForURL(/done=tested/), page.click("button:has-text('Test connection')")]);
  assert.ok(await page.isVisible("text=Connection works"));
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `server page is ${overflow}px wider than the phone`);
  await context.close();
});

test("adding an Audiobookshelf server at phone width and inviting a friend to it", async () => {
  const context = await browser.newContext({ viewport: PHONE, isMobile: true, hasTouch: true });
  const page = await context.newPage();
  await signIn(page, demo.base, demo.user, demo.password);
  await page.goto(`${demo.base}/admin/servers/new`);
  // The form says where this kind's key is.
  assert.ok(await page.isVisible("#token-hint >> text=Settings → API Keys"));
  await page.check("input[name=kind][value=audiobookshelf]");
  await page.fill("#name", "Story Shelf");
  await page.fill("#url", demo.absUrl);
  await page.fill("#token", demo.absKey);
  await page.screenshot({ path: join(shotsDir, "server-new-audiobookshelf-phone.png"), fullPage: true });
  await Promise.all([page.waitForURL(/\/admin\/servers\/\d+\?done=added/), page.click("form[action='/admin/servers'] button[type=submit]")]);
  assert.ok(await page.isVisible(".library-name >> text=Audiobooks"));
  assert.ok(await page.isVisible(".library-name >> text=Podcasts"));
  // Only what Audiobookshelf has: downloads, and a pause at expiry.
  assert.ok(await page.isVisible("input[name=allow_downloads]"));
  assert.equal(await page.locator("input[name=allow_live_tv]").count(), 0);
  assert.ok(await page.isVisible("input[name=action][value=disable]"));
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `server page is ${overflow}px wider than the phone`);
  await page.screenshot({ path: join(shotsDir, "server-audiobookshelf-phone.png"), fullPage: true });

  // An invite for it alone, then a friend makes an account on the public page.
  await page.goto(`${demo.base}/admin/invites/new`);
  await keepOnlyServers(page, "Story Shelf");
  const block = page.locator(".server-block", { hasText: "Story Shelf" });
  assert.equal(await block.locator("input[name^=live_tv_]").count(), 0, "no Live TV on an audiobook server");
  await Promise.all([page.waitForURL(/\/admin\/invites\/[A-Z0-9]+\?done=created/), page.click("form.card button[type=submit]")]);
  const link = await page.inputValue("#invite-url");

  const friend = await browser.newContext({ viewport: PHONE, isMobile: true, hasTouch: true });
  const phone = await friend.newPage();
  await phone.goto(link);
  assert.ok(await phone.isVisible("text=Story Shelf"));
  await phone.fill("#username", "Maya");
  await phone.fill("#password", "a long password");
  await phone.fill("#password_confirm", "a long password");
  await phone.screenshot({ path: join(shotsDir, "invite-audiobookshelf-phone.png"), fullPage: true });
  await Promise.all([phone.waitForURL(/\/welcome\?m=/), phone.click("form[action^='/i/'] button[type=submit] >> nth=-1")]);
  assert.match(await phone.textContent("h1"), /Welcome, Maya!/);
  assert.ok(await phone.isVisible("text=Audiobookshelf"));
  const wide = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(wide <= 0, `welcome page is ${wide}px wider than the phone`);
  await phone.screenshot({ path: join(shotsDir, "welcome-audiobookshelf-phone.png"), fullPage: true });
  await friend.close();
  await context.close();
});

test("adding a Navidrome server at phone width by signing in as its administrator", async () => {
  const context = await browser.newContext({ viewport: PHONE, isMobile: true, hasTouch: true });
  const page = await context.newPage();
  await signIn(page, demo.base, demo.user, demo.password);
  await page.goto(`${demo.base}/admin/servers/new`);
  await page.check("input[name=kind][value=navidrome]");
  await page.fill("#name", "Record Shop");
  await page.fill("#url", demo.ndUrl);
  await page.fill("#token", demo.ndPassword);
  // Without the administrator's name the form says what is missing, and keeps what was typed.
  await page.click("form[action='/admin/servers'] button[type=submit]");
  assert.ok(await page.isVisible("text=Enter the user name of the server"));
  assert.equal(await page.inputValue("#name"), "Record Shop");
  await page.fill("#token", demo.ndPassword);
  await page.fill("#username", demo.ndUser);
  await page.screenshot({ path: join(shotsDir, "server-new-navidrome-phone.png"), fullPage: true });
  await Promise.all([page.waitForURL(/\/admin\/servers\/\d+\?done=added/), page.click("form[action='/admin/servers'] button[type=submit]")]);
  assert.ok(await page.isVisible(".library-name >> text=Music"));
  // Navidrome cannot pause: the page says expiry removes, and offers no pause.
  assert.ok(await page.isVisible("text=Navidrome cannot pause access"));
  assert.equal(await page.locator("input[name=action][value=disable]").count(), 0);
  await page.screenshot({ path: join(shotsDir, "server-navidrome-phone.png"), fullPage: true });
  await context.close();
});

test("a Komga reader joins with their email as the login, at phone width", async () => {
  const context = await browser.newContext({ viewport: PHONE, isMobile: true, hasTouch: true });
  const page = await context.newPage();
  await signIn(page, demo.base, demo.user, demo.password);
  await page.goto(`${demo.base}/admin/servers/new`);
  await page.check("input[name=kind][value=komga]");
  await page.fill("#name", "Comic Shop");
  await page.fill("#url", demo.komgaUrl);
  await page.fill("#token", demo.komgaKey);
  await Promise.all([page.waitForURL(/\/admin\/servers\/\d+\?done=added/), page.click("form[action='/admin/servers'] button[type=submit]")]);
  assert.ok(await page.isVisible(".library-name >> text=Comics"));
  await page.goto(`${demo.base}/admin/invites/new`);
  await keepOnlyServers(page, "Comic Shop");
  await Promise.all([page.waitForURL(/\/admin\/invites\/[A-Z0-9]+\?done=created/), page.click("form.card button[type=submit]")]);
  const link = await page.inputValue("#invite-url");

  const friend = await browser.newContext({ viewport: PHONE, isMobile: true, hasTouch: true });
  const phone = await friend.newPage();
  await phone.goto(link);
  assert.equal(await phone.locator("#username").count(), 0, "no user name: the email is the login");
  assert.ok(await phone.isVisible("label:has-text('your login on Comic Shop')"));
  await phone.fill("#password", "a long password");
  await phone.fill("#password_confirm", "a long password");
  // The browser itself asks for the email before anything is sent.
  await phone.click("form[action^='/i/'] button[type=submit] >> nth=-1");
  assert.equal(await phone.evaluate(() => document.querySelector("#email").validity.valueMissing), true);
  await phone.fill("#email", "reader@example.com");
  await phone.screenshot({ path: join(shotsDir, "invite-komga-phone.png"), fullPage: true });
  await Promise.all([phone.waitForURL(/\/welcome\?m=/), phone.click("form[action^='/i/'] button[type=submit] >> nth=-1")]);
  assert.match(await phone.textContent("h1"), /Welcome, reader!/);
  assert.ok(await phone.isVisible("text=your email"));
  await phone.screenshot({ path: join(shotsDir, "welcome-komga-phone.png"), fullPage: true });
  await friend.close();
  await context.close();
});

test("adding a RomM server at phone width: platforms are its libraries, and it can pause", async () => {
  const context = await browser.newContext({ viewport: PHONE, isMobile: true, hasTouch: true });
  const page = await context.newPage();
  await signIn(page, demo.base, demo.user, demo.password);
  await page.goto(`${demo.base}/admin/servers/new`);
  await page.check("input[name=kind][value=romm]");
  await page.fill("#name", "Arcade");
  await page.fill("#url", demo.rommUrl);
  await page.fill("#token", demo.rommKey);
  await Promise.all([page.waitForURL(/\/admin\/servers\/\d+\?done=added/), page.click("form[action='/admin/servers'] button[type=submit]")]);
  assert.ok(await page.isVisible(".library-name >> text=Super Nintendo"));
  assert.ok(await page.isVisible("input[name=action][value=disable]"));
  assert.equal(await page.locator("input[name=allow_downloads]").count(), 0);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `server page is ${overflow}px wider than the phone`);
  await page.screenshot({ path: join(shotsDir, "server-romm-phone.png"), fullPage: true });
  await context.close();
});

test("adding a Kavita server at phone width and a friend joining with the email Kavita needs", async () => {
  const context = await browser.newContext({ viewport: PHONE, isMobile: true, hasTouch: true });
  const page = await context.newPage();
  await signIn(page, demo.base, demo.user, demo.password);
  await page.goto(`${demo.base}/admin/servers/new`);
  await page.check("input[name=kind][value=kavita]");
  assert.ok(await page.isVisible("#token-hint >> text=Auth Keys"));
  await page.fill("#name", "Reading Room");
  await page.fill("#url", demo.kavitaUrl);
  await page.fill("#token", demo.kavitaKey);
  await page.screenshot({ path: join(shotsDir, "server-new-kavita-phone.png"), fullPage: true });
  await Promise.all([page.waitForURL(/\/admin\/servers\/\d+\?done=added/), page.click("form[action='/admin/servers'] button[type=submit]")]);
  assert.ok(await page.isVisible(".library-name >> text=Light novels"));
  assert.ok(await page.isVisible("text=Kavita cannot pause access"));
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `server page is ${overflow}px wider than the phone`);
  await page.screenshot({ path: join(shotsDir, "server-kavita-phone.png"), fullPage: true });
  await page.goto(`${demo.base}/admin/invites/new`);
  await keepOnlyServers(page, "Reading Room");
  await Promise.all([page.waitForURL(/\/admin\/invites\/[A-Z0-9]+\?done=created/), page.click("form.card button[type=submit]")]);
  const link = await page.inputValue("#invite-url");

  const friend = await browser.newContext({ viewport: PHONE, isMobile: true, hasTouch: true });
  const phone = await friend.newPage();
  await phone.goto(link);
  assert.ok(await phone.isVisible("label:has-text('Reading Room needs one for your account')"));
  assert.ok(await phone.isVisible("#username-hint >> text=no spaces or accents"));
  // A name Kavita would refuse is caught by the browser before anything is sent.
  await phone.fill("#username", "Ana Lee");
  await phone.fill("#password", "a long password");
  await phone.fill("#password_confirm", "a long password");
  await phone.fill("#email", "ana@example.com");
  await phone.click("form[action^='/i/'] button[type=submit] >> nth=-1");
  assert.equal(await phone.evaluate(() => document.querySelector("#username").validity.patternMismatch), true);
  await phone.fill("#username", "ana.lee");
  await phone.fill("#email", "");
  await phone.click("form[action^='/i/'] button[type=submit] >> nth=-1");
  assert.equal(await phone.evaluate(() => document.querySelector("#email").validity.valueMissing), true);
  await phone.fill("#email", "ana@example.com");
  await phone.screenshot({ path: join(shotsDir, "invite-kavita-phone.png"), fullPage: true });
  await Promise.all([phone.waitForURL(/\/welcome\?m=/), phone.click("form[action^='/i/'] button[type=submit] >> nth=-1")]);
  assert.match(await phone.textContent("h1"), /Welcome, ana\.lee!/);
  assert.ok(await phone.isVisible("text=Start reading"));
  await phone.screenshot({ path: join(shotsDir, "welcome-kavita-phone.png"), fullPage: true });
  await friend.close();
  await context.close();
});
