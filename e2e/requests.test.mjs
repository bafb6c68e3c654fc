// A friend asks for access on a phone; the owner approves it in the web queue.
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
  assert.ok(await page.isVisible("text=Approved."));
  assert.ok(await page.isVisible(".request[data-status=approved]"));
  await owner.close();
  await friend.close();
});

/** A friend fills the request form on a phone. */
async function askForAccess(browser, name, email) {
  const friend = await browser.newContext({ viewport: PHONE, isMobile: true, hasTouch: true });
  const phone = await friend.newPage();
  await phone.goto(`${demo.base}/request`);
  await phone.fill("#name", name);
  await phone.fill("#email", email);
  await Promise.all([phone.waitForURL(/\/(request\/sent|i\/)/), phone.click("form[action='/request'] button[type=submit]")]);
  return { friend, phone };
}

/** The friend opens a personal link and chooses a login; lands on the welcome page. */
async function getInWith(phone, link, username, shot) {
  if (link) await phone.goto(link);
  assert.ok(await phone.isVisible("text=Demo Jellyfin"));
  await phone.fill("#username", username);
  await phone.fill("#password", "a good password");
  await phone.fill("#password_confirm", "a good password");
  await Promise.all([phone.waitForURL(/\/welcome\?m=/), phone.click("form[action^='/i/'] button[type=submit] >> nth=-1")]);
  assert.match(await phone.textContent("h1"), new RegExp(`Welcome, ${username}`));
  await phone.screenshot({ path: join(shotsDir, shot), fullPage: true });
}

/** In the approval form of the pending request by `name`, keeps only the Jellyfin server. */
async function onlyJellyfin(card) {
  const approve = card.locator("details", { has: card.page().locator("form[action$='/approve']") });
  if (!(await approve.evaluate((d) => d.open))) await approve.locator(":scope > summary").click();
  await keepOnlyServers(card, "Jellyfin");
}

test("approved on the web, a Jellyfin friend gets in through the personal link shown on the card", async () => {
  const { friend, phone } = await askForAccess(browser, "Quinn", "quinn@example.com");
  const owner = await browser.newContext({ viewport: PHONE, isMobile: true, hasTouch: true });
  await owner.grantPermissions(["clipboard-read", "clipboard-write"], { origin: demo.base });
  const page = await owner.newPage();
  await signIn(page, demo.base, demo.user, demo.password);
  await page.goto(`${demo.base}/admin/requests`);
  const card = page.locator(".request[data-status=pending]", { hasText: "Quinn" });
  await onlyJellyfin(card);
  await Promise.all([page.waitForURL(/done=approved/), card.locator("form[action$='/approve'] button[type=submit]").click()]);
  const done = page.locator(".request[data-status=approved]", { hasText: "Quinn" });
  assert.ok(await done.locator("text=Personal link").isVisible());
  assert.ok(await done.locator("text=Not emailed").isVisible(), "the demo has no email: the owner is told");
  await done.locator("summary", { hasText: "Show QR code" }).click();
  assert.ok(await done.locator(".qr svg").isVisible());
  await done.locator("button[data-copy]").click();
  const link = await page.evaluate(() => navigator.clipboard.readText());
  assert.match(link, /\/i\/[A-Z0-9]+$/);
  // A phone browser with the Web Share API shows Share too.
  assert.equal(await done.locator("button[data-share]").isVisible(), await page.evaluate(() => !!navigator.share));
  await done.screenshot({ path: join(shotsDir, "request-approved-card-phone.png") });

  await getInWith(phone, link, "quinn", "request-web-welcome-phone.png");
  await page.reload();
  assert.ok(await page.locator(".request", { hasText: "Quinn" }).locator("text=has used this link").isVisible());
  await owner.close();
  await friend.close();
});

test("approved in Telegram, the friend gets in through the link in the bot's message", async () => {
  const { friend, phone } = await askForAccess(browser, "Robin", "robin@example.com");
  const chat = await browser.newContext({ viewport: PHONE, isMobile: true, hasTouch: true });
  const tg = await chat.newPage();
  await tg.goto(demo.telegramChat);
  let card = tg.locator(".msg", { hasText: "Robin" });
  /** Reloads the chat once it changed (the fake answers when the bot has written). */
  const refresh = async () => {
    const version = await tg.getAttribute("body", "data-version");
    await tg.goto(`${demo.telegramChat}?since=${version}`);
    card = tg.locator(".msg", { hasText: "Robin" });
  };
  /** Waits, bounded, until Robin's message shows `text`. */
  const until = async (text) => {
    for (let i = 0; i < 10 && !(await card.locator(`text=${text}`).count()); i++) await refresh();
    assert.ok(await card.locator(`text=${text}`).count(), `the bot's message never said "${text}"`);
  };
  /** Presses a button on Robin's message and waits for the bot to change it. */
  const press = async (label) => {
    const version = await tg.getAttribute("body", "data-version");
    await card.locator("button", { hasText: label }).first().click();
    await tg.goto(`${demo.telegramChat}?since=${version}`);
    card = tg.locator(".msg", { hasText: "Robin" });
  };
  // The bot announces the request on its own.
  await until("robin@example.com");
  await tg.screenshot({ path: join(shotsDir, "telegram-request-phone.png"), fullPage: true });
  await press("Approve");
  await until("Send invite");
  // The picker: untick every Plex library, keep Jellyfin's, then send.
  for (const label of ["Movies · Demo Plex", "TV Shows · Demo Plex", "Music · Demo Plex"]) {
    const button = card.locator("button", { hasText: label });
    if ((await button.count()) && (await button.textContent()).startsWith("✅")) await press(label);
  }
  await press("Send invite");
  await until("Personal link");
  await tg.screenshot({ path: join(shotsDir, "telegram-approved-phone.png"), fullPage: true });
  assert.ok(await card.locator("text=Not emailed").isVisible());
  const link = await card.locator("a[href*='/i/']").getAttribute("href");
  await getInWith(phone, link, "robin", "request-telegram-welcome-phone.png");
  await chat.close();
  await friend.close();
});

test("with auto-approve on, the friend goes straight from the form to choosing a login", async () => {
  const owner = await browser.newContext({ viewport: PHONE, isMobile: true, hasTouch: true });
  const page = await owner.newPage();
  await signIn(page, demo.base, demo.user, demo.password);
  await page.goto(`${demo.base}/admin/settings/requests`);
  await page.check("input[name=auto_approve]");
  await Promise.all([page.waitForURL(/done=requests/), page.click("form[action='/admin/settings/requests'] button[type=submit]")]);

  const { friend, phone } = await askForAccess(browser, "Sam", "sam@example.com");
  assert.match(new URL(phone.url()).pathname, /^\/i\/[A-Z0-9]+$/, "straight to the personal invite");
  await getInWith(phone, null, "sam", "request-auto-welcome-phone.png");

  await page.goto(`${demo.base}/admin/settings/requests`);
  await page.uncheck("input[name=auto_approve]");
  await Promise.all([page.waitForURL(/done=requests/), page.click("form[action='/admin/settings/requests'] button[type=submit]")]);
  await owner.close();
  await friend.close();
});
