// First run in a real browser: the setup link creates the owner and lands on the dashboard,
// at phone and desktop widths. Screenshots go to target/e2e/.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { startUsher, launchBrowser, shotsDir, PHONE, DESKTOP } from "./harness.mjs";

let browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

for (const [name, viewport] of [["phone", PHONE], ["desktop", DESKTOP]]) {
  test(`setup with the token leads to the dashboard at ${name} width`, async () => {
    const usher = await startUsher();
    const context = await browser.newContext({ viewport });
    const page = await context.newPage();
    const thirdParty = [];
    page.on("request", (req) => {
      if (!req.url().startsWith(usher.base)) thirdParty.push(req.url());
    });
    try {
      // Without the token the page refuses.
      const refused = await page.goto(`${usher.base}/setup`);
      assert.equal(refused.status(), 403);
      assert.match(await page.textContent("h1"), /one-time link/);

      await page.goto(usher.setupUrl);
      // The public address is asked for, prefilled with the address the owner used.
      assert.equal(await page.inputValue("#public_url"), usher.base);
      await page.screenshot({ path: join(shotsDir, `setup-${name}.png`), fullPage: true });
      await page.fill("#username", "owner");
      await page.fill("#password", "correct horse battery");
      await page.fill("#password_confirm", "correct horse battery");
      // On the phone the owner keeps the loopback address; on the desktop they give the real one.
      const publicUrl = name === "desktop" ? "https://usher.example.com" : usher.base;
      await page.fill("#public_url", publicUrl);
      await Promise.all([page.waitForURL(`${usher.base}/admin`), page.click("button[type=submit]")]);
      assert.equal(await page.textContent("h1"), "Dashboard");
      assert.ok(await page.isVisible("text=Connect your first server"));
      const warned = await page.isVisible("text=friends cannot use them");
      assert.equal(warned, name !== "desktop", "the banner warns exactly while links point at loopback");
      await page.screenshot({ path: join(shotsDir, `dashboard-${name}.png`), fullPage: true });
      if (warned) {
        // The banner leads to the setting, which fixes it.
        await Promise.all([page.waitForURL(/\/admin\/settings/), page.click("text=Set the public address")]);
        await page.fill("#public_url", "https://usher.example.com");
        await Promise.all([page.waitForURL(/done=general/), page.click("form[action='/admin/settings/general'] button[type=submit]")]);
        assert.ok(!(await page.isVisible("text=friends cannot use them")));
        await page.goto(`${usher.base}/admin`);
      }
      await page.goto(`${usher.base}/admin/settings/requests`);
      assert.ok(await page.isVisible("a[href='https://usher.example.com/request']"), "the request form link uses it");
      await page.goto(`${usher.base}/admin`);

      // The page fits the viewport: nothing scrolls sideways on a phone.
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 0, `page is ${overflow}px wider than the viewport`);

      // The dark toggle works without scripts and is remembered.
      await Promise.all([page.waitForURL(`${usher.base}/admin`), page.click("button[name=theme][value=dark]")]);
      assert.equal(await page.getAttribute("html", "data-theme"), "dark");
      await page.screenshot({ path: join(shotsDir, `dashboard-dark-${name}.png`), fullPage: true });

      // Spanish from the switch.
      await Promise.all([page.waitForURL(`${usher.base}/admin`), page.click("button[name=lang][value=es]")]);
      assert.equal(await page.textContent("h1"), "Panel");

      // The setup link is void afterwards.
      await page.goto(usher.setupUrl);
      assert.equal(new URL(page.url()).pathname, "/admin");
      assert.deepEqual(thirdParty, [], "no request leaves usher");
    } finally {
      await context.close();
      await usher.stop();
    }
  });
}
