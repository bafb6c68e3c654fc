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
  const context = await browser.newContext({ viewport: PHONE, timezoneId: "America/New_York" });
  const page = await context.newPage();
  await signIn(page, demo.base, demo.user, demo.password);
  await page.goto(`${demo.base}/admin/settings`);
  // The settings are a list of sections, each a page of its own.
  await page.screenshot({ path: join(shotsDir, "settings-index-phone.png"), fullPage: true });
  await Promise.all([page.waitForURL(/\/admin\/settings\/general$/), page.click("a[href='/admin/settings/general']")]);
  assert.equal(await page.locator("main button[type=submit]").count(), 1, "one Save on the page");

  // General: the owner's name, which friend pages carry, and the time zone this browser is in.
  assert.equal(await page.inputValue("#time_zone"), "America/New_York", "prefilled from the browser");
  await page.fill("#owner_name", "Ana María");
  await Promise.all([
    page.waitForURL(/done=general/),
    page.click("#general button[type=submit]"),
  ]);
  assert.match(await page.locator(".alert.ok").innerText(), /Saved\./);
  assert.equal(await page.inputValue("#time_zone"), "America/New_York", "saved");
  await page.goto(`${demo.base}/admin/events`);
  assert.match(await page.locator("main").innerText(), /Times are in America\/New_York\./);
  await page.goto(`${demo.base}/admin/settings/requests`);

  // Requests: a duration usher cannot read stays on the page, named inside the section.
  await page.fill("#access_duration", "a while");
  await page.click("#requests button[type=submit]");
  const alert = page.locator("#requests .alert.error");
  await alert.waitFor();
  assert.match(await alert.innerText(), /30d|duration/i);
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
  await page.goto(`${demo.base}/admin/settings/telegram`);
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

// A 64 × 64 PNG, drawn for this test.
const LOGO_PNG = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAEAAAABACAIAAAAlC+aJAAAAeklEQVR4nO3PUQkAIBTAwBfHEPbHWIbw4xAGC3Cbs9fXDRc0oAUNaEEDWtCAFjSgBQ1oQQNa0IAWNKAFDWhBA1rQgBY0oAUNaEEDWtCAFjSgBQ1oQQNa0IAWNKAFDWhBA1rQgBY0oAUNaEEDWtCAFjSgBQ1oQQNa8NgFs4TBD2Pn/ncAAAAASUVORK5CYII=",
  "base64",
);

test("the owner brands the friend pages: name, colour and logo, and a friend sees them", async () => {
  const context = await browser.newContext({ viewport: PHONE, isMobile: true, hasTouch: true });
  const page = await context.newPage();
  await signIn(page, demo.base, demo.user, demo.password);
  await page.goto(`${demo.base}/admin/settings`);
  await Promise.all([page.waitForURL(/\/admin\/settings\/branding$/), page.click("a[href='/admin/settings/branding']")]);
  await page.fill("#brand_name", "Casa Cinema");
  await page.fill("#brand_accent", "#c83c28");
  await page.uncheck("input[name=no_accent]");
  await Promise.all([page.waitForURL(/done=branding/), page.click("form[action='/admin/settings/branding'] button[type=submit]")]);
  // A file that is not an image is refused, named in the section.
  await page.setInputFiles("#brand_logo", { name: "logo.svg", mimeType: "image/svg+xml", buffer: Buffer.from("<svg onload=alert(1)></svg>") });
  await page.click("form[action='/admin/settings/branding/logo'] button[type=submit]");
  assert.match(await page.locator("#branding .alert.error").innerText(), /PNG, JPEG or WebP/);
  await page.setInputFiles("#brand_logo", { name: "logo.png", mimeType: "image/png", buffer: LOGO_PNG });
  await Promise.all([page.waitForURL(/done=logo/), page.click("form[action='/admin/settings/branding/logo'] button[type=submit]")]);
  const preview = await page.getAttribute(".brand-logo-preview", "src");
  assert.match(preview, /^\/brand\/logo-[0-9a-f]{16}\.png$/);
  await page.screenshot({ path: join(shotsDir, "settings-branding-phone.png"), fullPage: true });

  // A friend opening the invite sees the server's name, colour and logo, not usher's.
  const friend = await browser.newContext({ viewport: PHONE, isMobile: true, hasTouch: true });
  const invite = await friend.newPage();
  const logo = invite.waitForResponse((r) => r.url().includes("/brand/logo-"));
  await invite.goto(demo.invite);
  assert.equal((await logo).status(), 200);
  assert.match((await logo).headers()["cache-control"], /immutable/);
  assert.equal(await invite.title(), "Join Casa Cinema · Casa Cinema");
  assert.equal((await invite.locator("h1").innerText()).trim(), "Join Casa Cinema");
  assert.equal((await invite.locator("header .brand").innerText()).trim(), "Casa Cinema");
  const accent = await invite.evaluate(() => getComputedStyle(document.documentElement).getPropertyValue("--accent").trim());
  assert.equal(accent, "#c83c28");
  const logoSize = await invite.locator("header .brand img.logo").evaluate((img) => img.naturalWidth);
  assert.equal(logoSize, 64, "the logo loaded");
  await invite.screenshot({ path: join(shotsDir, "invite-branded-phone.png") });
  await friend.close();
  await context.close();
});
