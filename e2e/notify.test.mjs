// The owner adds a signed webhook from a phone, copies the secret shown once, sends a test, and a
// friend's redemption reaches the receiver through the background sender; then the owner reads
// the events log, filtered, at phone width.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { createHmac, timingSafeEqual } from "node:crypto";
import { join } from "node:path";
import { startDemo, launchBrowser, signIn, shotsDir, PHONE, viaMenu } from "./harness.mjs";

let browser;
let demo;
let receiver;
const received = [];
let secret = null;
let arrived = () => {};

before(async () => {
  browser = await launchBrowser();
  demo = await startDemo();
  // A receiver like one an owner would write: it checks the signature before reading the body.
  receiver = createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      const expected = Buffer.from(`sha256=${createHmac("sha256", secret ?? "").update(body).digest("hex")}`);
      const given = Buffer.from(req.headers["x-usher-signature"] ?? "");
      if (!secret || given.length !== expected.length || !timingSafeEqual(given, expected)) {
        res.writeHead(401).end("bad signature");
        return;
      }
      received.push({ event: req.headers["x-usher-event"], json: JSON.parse(body.toString("utf8")) });
      res.writeHead(204).end();
      arrived();
    });
  });
  await new Promise((r) => receiver.listen(0, "127.0.0.1", r));
});
after(async () => {
  await browser?.close();
  await demo?.stop();
  receiver?.close();
});

async function noOverflow(page, what) {
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `${what} is ${overflow}px wider than the phone`);
}

function waitForDelivery(n) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`only ${received.length} deliveries arrived`)), 15000);
    arrived = () => {
      if (received.length >= n) {
        clearTimeout(timer);
        resolve();
      }
    };
    arrived();
  });
}

test("the owner adds a signed webhook and reads the events log at phone width", async () => {
  const owner = await browser.newContext({ viewport: PHONE, isMobile: true, hasTouch: true });
  const page = await owner.newPage();
  await signIn(page, demo.base, demo.user, demo.password);

  await page.goto(`${demo.base}/admin/settings`);
  await Promise.all([
    page.waitForURL(/\/admin\/settings\/notifications$/),
    page.click("a[href='/admin/settings/notifications']"),
  ]);
  await noOverflow(page, "the notifications page");

  const hookUrl = `http://127.0.0.1:${receiver.address().port}/hook`;
  await page.check("#new input[name=kind][value=webhook]");
  await page.fill("#new-name", "Home automation");
  await page.fill("#new-url", hookUrl);
  await Promise.all([page.waitForLoadState("load"), page.click("#new button[type=submit]")]);
  secret = await page.inputValue("#secret-value");
  assert.ok(secret.length >= 32, "the secret is shown once");
  await page.screenshot({ path: join(shotsDir, "notifications-secret-phone.png"), fullPage: true });
  await noOverflow(page, "the page with the secret");

  await page.goto(`${demo.base}/admin/settings/notifications`);
  assert.equal(await page.locator("#secret-value").count(), 0, "never shown again");
  const html = await page.content();
  assert.ok(!html.includes(secret) && !html.includes("/hook"), "secret and path stay hidden");

  const card = page.locator("li.channel", { hasText: "Home automation" });
  await Promise.all([page.waitForURL(/done=tested/), card.locator("text=Send a test").click()]);
  assert.equal(received.length, 1);
  assert.equal(received[0].event, "test");

  // A friend redeems the demo invite; the sender delivers in the background.
  const code = demo.invite.split("/").pop();
  const res = await fetch(`${demo.base}/api/v1/invites/${code}/redeem`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ plex_username: "alice@example.com", username: "hookfan", password: "a good password" }),
  });
  assert.equal(res.status, 201, await res.text());
  await waitForDelivery(2);
  const redeemed = received.find((d) => d.event === "invite.redeemed");
  assert.ok(redeemed, JSON.stringify(received));
  assert.equal(redeemed.json.data.member, "hookfan");
  assert.match(redeemed.json.at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);

  // The events log, from the nav, filtered to notifications.
  await Promise.all([page.waitForURL(/\/admin\/events$/), viaMenu(page, "a[href='/admin/events']")]);
  assert.ok(await page.locator("li[data-action='invite.redeemed']").first().isVisible());
  await noOverflow(page, "the events log");
  await page.selectOption("select[name=action]", "notify.*");
  await Promise.all([page.waitForURL(/action=notify/), page.click("form.filters button[type=submit]")]);
  const actions = await page.locator("li[data-action]").evaluateAll((els) => els.map((e) => e.dataset.action));
  assert.ok(actions.length > 0 && actions.every((a) => a.startsWith("notify.")), actions.join());
  assert.ok(actions.includes("notify.tested"));
  await page.screenshot({ path: join(shotsDir, "events-phone.png"), fullPage: true });
  await noOverflow(page, "the filtered events log");
  const csv = await page.getAttribute("a[download]", "href");
  assert.equal(csv, "/admin/events.csv?action=notify.*");
  await owner.close();
});

test("the new-channel form shows only the chosen kind's fields, with or without scripts", async () => {
  for (const javaScriptEnabled of [true, false]) {
    const owner = await browser.newContext({ viewport: PHONE, isMobile: true, hasTouch: true, javaScriptEnabled });
    const page = await owner.newPage();
    await signIn(page, demo.base, demo.user, demo.password);
    await page.goto(`${demo.base}/admin/settings/notifications`);
    await page.check("#new input[name=kind][value=email]");
    assert.ok(await page.isVisible("#new-address"), "email asks for an address");
    assert.ok(!(await page.isVisible("#new-url")), "and not for a URL");
    await page.check("#new input[name=kind][value=discord]");
    assert.ok(await page.isVisible("#new-url"), "Discord asks for its webhook URL");
    assert.ok(!(await page.isVisible("#new-address")));
    await page.check("#new input[name=kind][value=telegram]");
    assert.ok(!(await page.isVisible("#new-url")) && !(await page.isVisible("#new-address")), "Telegram needs neither");
    await page.locator("#new").screenshot({ path: join(shotsDir, `notify-new-telegram-${javaScriptEnabled ? "js" : "nojs"}-phone.png`) });
    await owner.close();
  }
});
