// A friend redeems the demo invite; the owner manages them from a phone: the members list, the
// member page, extending access by 30 days and changing libraries.
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

async function noOverflow(page, what) {
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `${what} is ${overflow}px wider than the phone`);
}

test("the owner manages a member at phone width", async () => {
  // The friend redeems through the public API (Plex account and a Jellyfin account).
  const code = demo.invite.split("/").pop();
  const res = await fetch(`${demo.base}/api/v1/invites/${code}/redeem`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      plex_username: "alice@example.com",
      username: "phonefan",
      password: "a good password",
    }),
  });
  assert.equal(res.status, 201, await res.text());

  const owner = await browser.newContext({ viewport: PHONE, isMobile: true, hasTouch: true });
  const page = await owner.newPage();
  await signIn(page, demo.base, demo.user, demo.password);

  await page.goto(`${demo.base}/admin/members`);
  const card = page.locator("li.member-row", { hasText: "phonefan" });
  assert.ok(await card.isVisible(), "the new member is listed");
  assert.ok(await card.locator("text=Demo Jellyfin").isVisible());
  assert.ok(await card.locator("text=Demo Plex").isVisible());
  await page.screenshot({ path: join(shotsDir, "members-phone.png"), fullPage: true });
  await noOverflow(page, "the members list");

  // Search finds them by account name.
  await page.fill("#q", "alice@");
  await Promise.all([page.waitForURL(/q=alice/), page.click("form.filters .search button[type=submit]")]);
  assert.ok(await page.locator("li.member-row", { hasText: "phonefan" }).isVisible());

  await Promise.all([page.waitForURL(/\/admin\/members\/\d+$/), page.click("li.member-row h2 a")]);
  assert.match(await page.textContent("h1"), /phonefan/);
  await noOverflow(page, "the member page");
  const before = await page.textContent("#member-expiry");

  // Extend by 30 days is one tap and keeps the time of day.
  await Promise.all([page.waitForURL(/done=expiry/), page.click("button[name=action][value=extend]")]);
  assert.ok(await page.isVisible("text=Expiry saved."));
  const after = await page.textContent("#member-expiry");
  assert.notEqual(after.trim(), before.trim());
  assert.equal(after.trim().slice(11, 16), before.trim().slice(11, 16), `time of day kept: ${before} → ${after}`);

  // Jellyfin: keep only the first library.
  const jellyfin = page.locator("section.grant", { has: page.locator("h2", { hasText: "Demo Jellyfin" }) });
  const boxes = jellyfin.locator("input[name=lib]");
  const count = await boxes.count();
  assert.ok(count >= 2, "several libraries offered");
  await boxes.nth(0).check();
  for (let i = 1; i < count; i++) await boxes.nth(i).uncheck();
  await Promise.all([page.waitForURL(/done=saved/), jellyfin.locator("button", { hasText: "Save access" }).click()]);
  assert.ok(await page.isVisible("text=Access changed on the server."));
  const checked = await page
    .locator("section.grant", { has: page.locator("h2", { hasText: "Demo Jellyfin" }) })
    .locator("input[name=lib]:checked")
    .count();
  assert.equal(checked, 1);
  assert.ok(await page.isVisible("text=You changed what phonefan can use"), "history shows the change in words");
  await page.screenshot({ path: join(shotsDir, "member-phone.png"), fullPage: true });
  await noOverflow(page, "the member page after changes");
  await owner.close();
});
