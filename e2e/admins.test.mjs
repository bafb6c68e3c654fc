// The owner brings in a helper who approves requests, from a phone: a one-time link made on the
// Admins page, opened in another browser, where the helper picks a name and a password (a weak
// one is refused with the reason) and lands on the requests queue with only what the role opens.
// Then the owner changes their own password and sees the helper's browser gone from theirs.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { createHmac } from "node:crypto";
import { startDemo, launchBrowser, signIn, shotsDir, PHONE, viaMenu, menuEntries } from "./harness.mjs";

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

async function noOverflow(page, what) {
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `${what} overflows by ${overflow}px at phone width`);
}

test("an approver joins through the owner's one-time link and sees only the queue and the members", async () => {
  const owner = await browser.newContext({ viewport: PHONE });
  const page = await owner.newPage();
  await signIn(page, demo.base, demo.user, demo.password);
  await viaMenu(page, "a[href='/admin/account']");
  await page.waitForURL(/\/admin\/account$/);
  await page.click("a[href='/admin/admins']");
  await page.waitForURL(/\/admin\/admins$/);
  await page.check("input[name=role][value=approver]");
  await page.fill("#hours", "24");
  await page.click("#invite button[type=submit]");
  const link = await page.inputValue("#invite-link");
  assert.match(link, /\/team\/[A-Za-z0-9_-]{20,}$/);
  assert.ok(link.startsWith(demo.base), `${link} is on usher's own address`);
  await noOverflow(page, "the Admins page");
  await page.locator("#invite").screenshot({ path: join(shotsDir, "admins-invite-link-phone.png") });

  const helperContext = await browser.newContext({ viewport: PHONE });
  const helper = await helperContext.newPage();
  await helper.goto(link);
  assert.match(await helper.locator("h1").innerText(), /Join the team/);
  assert.match(await helper.locator("main").innerText(), /Approver/);
  await helper.fill("#username", "sam");
  await helper.fill("#password", "password123");
  await helper.fill("#password_confirm", "password123");
  await helper.click("button[type=submit]");
  await helper.locator(".alert.error").waitFor();
  assert.match(await helper.locator(".alert.error").innerText(), /one of those people use most/);
  assert.equal(await helper.inputValue("#username"), "sam", "the name typed stays");
  await helper.screenshot({ path: join(shotsDir, "team-join-weak-password-phone.png"), fullPage: true });

  await helper.fill("#password", "sam keeps the queue tidy");
  await helper.fill("#password_confirm", "sam keeps the queue tidy");
  await Promise.all([helper.waitForURL(/\/admin\/requests$/), helper.click("button[type=submit]")]);
  assert.deepEqual(await menuEntries(helper), ["Requests 1", "Members", "Account"]);
  assert.match(await helper.locator("main").innerText(), /Carol \(demo\)/, "the waiting request is there");
  assert.equal(await helper.locator(".banner").count(), 0, "no warning the approver cannot act on");
  await noOverflow(helper, "the approver's queue");
  await helper.screenshot({ path: join(shotsDir, "approver-queue-phone.png"), fullPage: true });

  // The dashboard address takes them to the queue; an admin page says why it is closed.
  await helper.goto(`${demo.base}/admin`);
  assert.match(helper.url(), /\/admin\/requests$/);
  const res = await helper.goto(`${demo.base}/admin/invites`);
  assert.equal(res.status(), 403);
  assert.match(await helper.locator("main").innerText(), /your role does not include it/);

  // The link was used: opening it again says so.
  const again = await (await browser.newContext({ viewport: PHONE })).newPage();
  const gone = await again.goto(link);
  assert.equal(gone.status(), 410);
  assert.match(await again.locator("main").innerText(), /has been used, was revoked or has expired/);

  // The owner sees sam on the Admins page.
  await page.goto(`${demo.base}/admin/admins`);
  assert.match(await page.locator("main").innerText(), /sam/);
  await helperContext.close();
  await owner.close();
});

test("the owner changes their password and the other browsers are signed out", async () => {
  const phoneContext = await browser.newContext({ viewport: PHONE });
  const phone = await phoneContext.newPage();
  await signIn(phone, demo.base, demo.user, demo.password);
  const laptopContext = await browser.newContext({ viewport: PHONE });
  const laptop = await laptopContext.newPage();
  await signIn(laptop, demo.base, demo.user, demo.password);

  await phone.goto(`${demo.base}/admin/account`);
  const rows = await phone.locator("#sessions .row-item").count();
  assert.ok(rows >= 2, `${rows} browsers listed`);
  assert.equal(await phone.locator("#sessions .badge.ok").count(), 1, "this browser is marked");
  await noOverflow(phone, "the account page");

  await phone.fill("#current", "not my password");
  await phone.fill("#password", "a much longer passphrase now");
  await phone.fill("#password_confirm", "a much longer passphrase now");
  await phone.click("#change-password button[type=submit]");
  await phone.locator("#change-password .alert.error").waitFor();
  assert.match(await phone.locator("#change-password .alert.error").innerText(), /current password is not right/);

  await phone.fill("#current", demo.password);
  await phone.fill("#password", "a much longer passphrase now");
  await phone.fill("#password_confirm", "a much longer passphrase now");
  await Promise.all([phone.waitForURL(/done=password/), phone.click("#change-password button[type=submit]")]);
  assert.match(await phone.locator(".alert.ok").innerText(), /Password changed/);
  assert.equal(await phone.locator("#sessions .row-item").count(), 1, "only this browser is left");
  await phone.screenshot({ path: join(shotsDir, "account-password-changed-phone.png"), fullPage: true });

  await laptop.goto(`${demo.base}/admin/members`);
  assert.match(laptop.url(), /\/login\?next=/, "the other browser was signed out");
  demo.password = "a much longer passphrase now";
  await phoneContext.close();
  await laptopContext.close();
});

/** The code an authenticator app shows for a base32 key, `ahead` steps from now (RFC 6238). */
function totp(base32Key, ahead = 0) {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = "";
  for (const c of base32Key.replace(/\s+/g, "").toUpperCase()) bits += alphabet.indexOf(c).toString(2).padStart(5, "0");
  const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(Date.now() / 1000 / 30) + ahead));
  const mac = createHmac("sha1", key).update(counter).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  const value = (mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000;
  return String(value).padStart(6, "0");
}

test("the owner switches on authenticator codes, and the next sign-in asks for one", async () => {
  const context = await browser.newContext({ viewport: PHONE });
  const page = await context.newPage();
  await signIn(page, demo.base, demo.user, demo.password);
  await page.goto(`${demo.base}/admin/account`);
  await page.click("#two-factor button[type=submit]");
  await page.locator("#two-factor .qr svg").waitFor();
  const key = (await page.locator("#tf-secret").innerText()).trim();
  await noOverflow(page, "the enrolment");
  await page.locator("#two-factor").screenshot({ path: join(shotsDir, "account-two-factor-scan-phone.png") });

  await page.fill("#tf-code", "000000");
  await page.click("#two-factor form[action$='confirm'] button");
  await page.locator("#tf-error").waitFor();
  assert.match(await page.locator("#tf-error").innerText(), /not right/);
  await page.fill("#tf-code", totp(key));
  await page.click("#two-factor form[action$='confirm'] button");
  await page.locator("#recovery-codes").waitFor();
  const codes = await page.locator("#recovery-codes li").allInnerTexts();
  assert.equal(codes.length, 10);
  await page.locator("#recovery-codes").screenshot({ path: join(shotsDir, "account-recovery-codes-phone.png") });

  // Signing in again: the password, then the code page.
  await viaMenu(page, "form[action='/logout'] button");
  await page.waitForURL(/\/login$/);
  await page.fill("#username", demo.user);
  await page.fill("#password", demo.password);
  await Promise.all([page.waitForURL(/\/login\/code$/), page.click("main button[type=submit]")]);
  assert.match(await page.locator("h1").innerText(), /One more step/);
  assert.equal(await page.getAttribute("#code", "autocomplete"), "one-time-code");
  await page.fill("#code", "111111");
  await page.click("main button[type=submit]");
  await page.locator("#code-error").waitFor();
  await page.screenshot({ path: join(shotsDir, "login-code-wrong-phone.png"), fullPage: true });
  // The code the app shows next (the one used to switch codes on cannot be used again).
  await page.fill("#code", totp(key, 1));
  await Promise.all([page.waitForURL(`${demo.base}/admin`), page.click("main button[type=submit]")]);
  await page.goto(`${demo.base}/admin/account`);
  assert.match(await page.locator("#two-factor").innerText(), /10 unused recovery codes/);
  await context.close();
});
