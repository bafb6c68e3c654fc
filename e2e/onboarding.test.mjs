// The friends' guide and the steps after joining, at phone width, in English and Spanish.
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

const words = {
  en: { guide: "How this works", welcome: /Welcome, /, submit: "Get access" },
  es: { guide: "Cómo funciona", welcome: /Bienvenido, /, submit: "Obtener acceso" },
};

for (const lang of ["en", "es"]) {
  test(`the guide and the post-redeem steps at phone width in ${lang}`, async () => {
    const context = await browser.newContext({ viewport: PHONE, isMobile: true, hasTouch: true, locale: lang, extraHTTPHeaders: { "Accept-Language": lang } });
    const page = await context.newPage();
    await page.goto(`${demo.base}/guide`);
    assert.equal(await page.getAttribute("html", "lang"), lang);
    assert.equal((await page.textContent("h1")).trim(), words[lang].guide);
    await page.screenshot({ path: join(shotsDir, `guide-phone-${lang}.png`), fullPage: true });

    // The demo invite covers Plex and Jellyfin: a Plex account plus a new Jellyfin account.
    await page.goto(demo.invite);
    await page.fill("#plex_account", lang === "en" ? "alice@example.com" : "bob@example.com");
    await page.fill("#username", `friend${lang}`);
    await page.fill("#password", "a good password");
    await page.fill("#password_confirm", "a good password");
    await Promise.all([page.waitForURL(/\/welcome\?m=/), page.click(`button:has-text("${words[lang].submit}")`)]);
    assert.match(await page.textContent("h1"), words[lang].welcome);
    const steps = await page.locator("ol.steps li").count();
    assert.ok(steps >= 5, `both servers' steps shown (${steps})`);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `welcome page is ${overflow}px wider than the phone`);
    await page.screenshot({ path: join(shotsDir, `welcome-phone-${lang}.png`), fullPage: true });
    await context.close();
  });
}

test("the owner writes Spanish steps on the Español tab; English friends keep the built-in ones", async () => {
  const owner = await browser.newContext({ viewport: PHONE, isMobile: true, hasTouch: true });
  const page = await owner.newPage();
  await signIn(page, demo.base, demo.user, demo.password);
  await page.goto(`${demo.base}/admin/onboarding?kind=jellyfin`);
  await Promise.all([page.waitForURL(/lang=es/), page.click("nav.tabs a[lang=es]")]);
  assert.equal(await page.inputValue("#title_0"), "Consigue la app", "the built-in Spanish steps to start from");
  await page.fill("#title_0", "Bienvenida de la casa");
  await page.click("button[value=preview]");
  // The preview fills in the Jellyfin tab's own server.
  assert.match(await page.locator("ol.steps").innerText(), /Bienvenida de la casa/);
  await Promise.all([page.waitForURL(/done=saved/), page.click("button[value=save]")]);
  assert.match(page.url(), /kind=jellyfin&lang=es/);
  await page.screenshot({ path: join(shotsDir, "onboarding-spanish-tab-phone.png"), fullPage: true });
  await Promise.all([page.waitForURL(/lang=en/), page.click("nav.tabs a[lang=en]")]);
  assert.equal(await page.inputValue("#title_0"), "Get the app");
  assert.ok(!(await page.locator("main").innerText()).includes("Bienvenida de la casa"), "English has its own");
  await owner.close();
});
