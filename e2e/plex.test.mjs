// Sign in with Plex in a real browser: the round trip to the Plex app on another origin and back,
// for a friend redeeming an invite and for the owner adding a server. A CSP that drops the
// cross-origin redirect shows up here and nowhere else.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { startDemo, launchBrowser, signIn, shotsDir, PHONE, keepOnlyServers } from "./harness.mjs";

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

/** The Plex app lives on another origin than usher. */
const offUsher = (u) => u.origin !== new URL(demo.base).origin;
const phone = () => browser.newContext({ viewport: PHONE, isMobile: true, hasTouch: true });

/** Collects CSP violations the page reports, so a blocked form says why. */
function watchCsp(page) {
  const violations = [];
  page.on("console", (m) => {
    if (/Content Security Policy|violates/i.test(m.text())) violations.push(m.text());
  });
  return violations;
}

/** Creates a Plex-only, one-use invite as the owner and returns its link. */
async function plexOnlyInvite(owner) {
  const page = await owner.newPage();
  await signIn(page, demo.base, demo.user, demo.password);
  await page.goto(`${demo.base}/admin/invites/new`);
  await keepOnlyServers(page, "Plex");
  await page.fill("#uses", "1");
  await Promise.all([page.waitForURL(/\/admin\/invites\/[A-Z0-9]+\?done=created/), page.click("form.card button[type=submit]")]);
  const link = await page.inputValue("#invite-url");
  await page.close();
  return link;
}

test("a friend signs in with Plex on the Plex app's page and comes back redeemed", async () => {
  const owner = await browser.newContext({ viewport: PHONE });
  const link = await plexOnlyInvite(owner);
  const friend = await phone();
  const page = await friend.newPage();
  const csp = watchCsp(page);
  await page.goto(link);
  await page.screenshot({ path: join(shotsDir, "plex-invite-phone.png"), fullPage: true });

  await Promise.all([
    page.waitForURL(offUsher, { timeout: 5000 }),
    page.click("text=Sign in with Plex"),
  ]).catch((e) => {
    throw new Error(`the Plex app page never opened (${e.message}); CSP: ${csp.join(" | ")}`);
  });
  await page.screenshot({ path: join(shotsDir, "plex-app-phone.png"), fullPage: true });
  await Promise.all([page.waitForURL(/\/welcome\?m=/), page.click("text=Sign in as bob")]);
  assert.equal(new URL(page.url()).origin, new URL(demo.base).origin, "back on usher");
  assert.match(await page.textContent("h1"), /Welcome/);
  await page.screenshot({ path: join(shotsDir, "plex-welcome-phone.png"), fullPage: true });
  assert.equal(await page.getAttribute("a:has-text('Open in the browser')", "href"), "https://app.plex.tv/desktop");
  assert.ok(await page.isVisible("a:has-text('iPhone and iPad')"), "app links for the friend's devices");
  assert.deepEqual(csp, []);
  // The one-use link, reopened on this phone, leads back here rather than to an error.
  const welcome = page.url();
  await page.goto(link);
  assert.equal(page.url(), welcome);

  // The owner sees bob's redemption on the invite.
  const admin = await owner.newPage();
  await admin.goto(`${demo.base}/admin/members?q=bob`);
  assert.ok(await admin.isVisible("text=bob@example.com"), "bob is a member");
  await owner.close();
  await friend.close();
});

test("on a mixed invite, Sign in with Plex fills the Plex part and the friend finishes the form", async () => {
  const friend = await phone();
  const page = await friend.newPage();
  const csp = watchCsp(page);
  await page.goto(demo.invite);
  await Promise.all([page.waitForURL(offUsher), page.click("text=Sign in with Plex")]);
  await Promise.all([page.waitForURL(/\/i\/[^/]+\/plex\?/), page.click("text=Sign in as alice")]);
  assert.ok(await page.isVisible("text=alice@example.com"), "the Plex account is known");
  await page.fill("#username", "alice-jf");
  await page.fill("#password", "a good password");
  await page.fill("#password_confirm", "a good password");
  await Promise.all([page.waitForURL(/\/welcome\?m=/), page.click("form[action^='/i/'] button[type=submit] >> nth=-1")]);
  assert.match(await page.textContent("h1"), /Welcome/);
  assert.deepEqual(csp, []);
  await friend.close();
});

test("the owner adds a Plex server by signing in with Plex", async () => {
  const owner = await phone();
  const page = await owner.newPage();
  const csp = watchCsp(page);
  await signIn(page, demo.base, demo.user, demo.password);
  await page.goto(`${demo.base}/admin/servers/new`);
  await Promise.all([
    page.waitForURL(offUsher, { timeout: 5000 }),
    page.click("form[action='/admin/servers/plex/signin'] button[type=submit]"),
  ]).catch((e) => {
    throw new Error(`the Plex app page never opened (${e.message}); CSP: ${csp.join(" | ")}`);
  });
  await Promise.all([page.waitForURL(/\/admin\/servers\/plex\/callback/), page.click("text=Sign in as usher-owner")]);
  assert.ok(await page.isVisible("text=Home Plex"), "the owner's server is offered");
  await page.screenshot({ path: join(shotsDir, "plex-pick-phone.png"), fullPage: true });
  assert.deepEqual(csp, []);
  await owner.close();
});
