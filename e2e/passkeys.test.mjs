// Passkeys from a phone, with Chromium's virtual authenticator standing in for the phone's own
// (a platform passkey that verifies its user, as Face ID or a fingerprint does). On the demo's
// IP address the account page explains why passkeys cannot work; once the owner gives usher a
// name (localhost here) they add one, sign in with it alone, use it as the step after the
// password, rename it and remove it.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { startDemo, launchBrowser, signIn, shotsDir, PHONE, viaMenu } from "./harness.mjs";

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

/** A passkey-capable authenticator built into this page's "device". */
async function virtualAuthenticator(context, page) {
  const cdp = await context.newCDPSession(page);
  await cdp.send("WebAuthn.enable", { enableUI: false });
  const { authenticatorId } = await cdp.send("WebAuthn.addVirtualAuthenticator", {
    options: {
      protocol: "ctap2",
      transport: "internal",
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });
  return {
    async credentials() {
      return (await cdp.send("WebAuthn.getCredentials", { authenticatorId })).credentials;
    },
  };
}

async function signOut(page) {
  await Promise.all([page.waitForURL(/\/login$/), viaMenu(page, "form[action='/logout'] button")]);
}

test("the owner adds a passkey from a phone and signs in with it alone, or after the password", async () => {
  const context = await browser.newContext({ viewport: PHONE, isMobile: true, hasTouch: true });
  const page = await context.newPage();
  page.on("dialog", (dialog) => dialog.accept());

  // On an IP address: explained, not offered.
  await signIn(page, demo.base, demo.user, demo.password);
  await page.goto(`${demo.base}/admin/account`);
  assert.match(await page.locator("#passkeys-unavailable").innerText(), /not an IP address/);
  assert.equal(await page.locator("form[data-passkey]").count(), 0);
  await page.locator("#passkeys").screenshot({ path: join(shotsDir, "account-passkeys-unavailable-phone.png") });

  // The owner gives usher a name: localhost, as a browser on this machine reaches it.
  const named = demo.base.replace("127.0.0.1", "localhost");
  await page.goto(`${demo.base}/admin/settings/general`);
  await page.fill("#public_url", named);
  await Promise.all([page.waitForURL(/done=general/), page.click("form[action='/admin/settings/general'] button[type=submit]")]);

  const authenticator = await virtualAuthenticator(context, page);
  await signIn(page, named, demo.user, demo.password);
  await page.goto(`${named}/admin/account`);
  const add = page.locator("form[data-passkey=create]");
  await add.waitFor({ state: "visible" });
  assert.notEqual(await page.inputValue("#pk-name"), "", "named after this browser until told otherwise");
  await page.fill("#pk-name", "My phone");
  await noOverflow(page, "the account page with passkeys");
  await page.locator("#passkeys").screenshot({ path: join(shotsDir, "account-passkeys-add-phone.png") });
  await Promise.all([page.waitForNavigation(), add.locator("button[type=submit]").click()]);
  assert.match(await page.locator(".alert.ok[role=status]").first().innerText(), /Passkey added/);
  const codes = await page.locator("#recovery-codes li").allInnerTexts();
  assert.equal(codes.length, 10, "the first second step comes with recovery codes");
  assert.match(await page.locator("#passkeys").innerText(), /My phone/);
  assert.equal((await authenticator.credentials()).length, 1, "the phone holds the passkey");
  const stored = (await authenticator.credentials())[0];
  assert.equal(stored.rpId, "localhost");
  assert.ok(stored.isResidentCredential, "discoverable: signs in with no name typed");
  await noOverflow(page, "the account page after adding a passkey");
  await page.screenshot({ path: join(shotsDir, "account-passkey-added-phone.png"), fullPage: true });

  // Signing in with the passkey alone: no name, no password.
  await signOut(page);
  const button = page.locator("form[data-passkey=get] button[type=submit]");
  await button.waitFor({ state: "visible" });
  assert.match(await button.innerText(), /Sign in with a passkey/);
  await noOverflow(page, "the sign-in page");
  await page.screenshot({ path: join(shotsDir, "login-passkey-phone.png"), fullPage: true });
  const before = (await authenticator.credentials())[0].signCount;
  await Promise.all([page.waitForURL(`${named}/admin`), button.click()]);
  assert.equal((await authenticator.credentials())[0].signCount, before + 1, "the passkey signed");

  // The password alone no longer opens: the passkey follows it.
  await signOut(page);
  await page.fill("#username", demo.user);
  await page.fill("#password", demo.password);
  await Promise.all([page.waitForURL(/\/login\/code$/), page.click("form[action='/login'] button[type=submit]")]);
  const step = page.locator("form[data-passkey=get] button[type=submit]");
  await step.waitFor({ state: "visible" });
  assert.match(await step.innerText(), /Use my passkey/);
  assert.match(await page.locator("label[for=code]").innerText(), /Recovery code/);
  await noOverflow(page, "the second step");
  await page.screenshot({ path: join(shotsDir, "login-step-passkey-phone.png"), fullPage: true });
  await Promise.all([page.waitForURL(`${named}/admin`), step.click()]);

  // Renamed, then removed: the sign-in page stops offering passkeys.
  await page.goto(`${named}/admin/account`);
  const row = page.locator("#passkeys .row-item").first();
  await row.locator("summary").click();
  await row.locator("input[name=name]").fill("Work phone");
  await Promise.all([page.waitForURL(/done=passkey-renamed/), row.locator("form[action$=rename] button").click()]);
  assert.match(await page.locator("#passkeys").innerText(), /Work phone/);
  assert.match(await page.locator("#passkeys").innerText(), /last used/);
  await Promise.all([
    page.waitForURL(/done=passkey-removed/),
    page.locator("#passkeys .row-item form[action$=remove] button").click(),
  ]);
  assert.equal(await page.locator("#passkeys .row-item").count(), 0);
  await signOut(page);
  assert.equal(await page.locator("form[data-passkey]").count(), 0, "no passkey left to offer");
  await context.close();
});

test("closing the passkey prompt says so and leaves the page usable", async () => {
  const context = await browser.newContext({ viewport: PHONE, isMobile: true, hasTouch: true });
  const page = await context.newPage();
  const named = demo.base.replace("127.0.0.1", "localhost");
  // No authenticator answers: the browser's prompt ends as if closed.
  const cdp = await context.newCDPSession(page);
  await cdp.send("WebAuthn.enable", { enableUI: false });
  await cdp.send("WebAuthn.addVirtualAuthenticator", {
    options: { protocol: "ctap2", transport: "internal", hasResidentKey: true, hasUserVerification: true, isUserVerified: false },
  });
  await signIn(page, named, demo.user, demo.password);
  await page.goto(`${named}/admin/account`);
  const add = page.locator("form[data-passkey=create]");
  await add.waitFor({ state: "visible" });
  await add.locator("button[type=submit]").click();
  const status = add.locator("[data-passkey-status]");
  await page.waitForFunction((el) => /closed before it finished|could not be used/.test(el.textContent), await status.elementHandle(), { timeout: 60_000 });
  assert.ok(await add.locator("button[type=submit]").isEnabled(), "ready to try again");
  await context.close();
});
