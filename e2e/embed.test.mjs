// A guide page on another site carries the request form from the README and posts to usher.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { readFileSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { startDemo, launchBrowser, signIn, shotsDir, PHONE, DESKTOP } from "./harness.mjs";

const readme = readFileSync(join(dirname(fileURLToPath(import.meta.url)), "..", "README.md"), "utf8");
const snippet = readme
  .split("### A request form on another site")[1]
  .split("```html")[1]
  .split("```")[0];

/** Serves one page at `/` on `port` (0: any free one): another origin than usher's. */
async function site(html, port = 0) {
  const server = createServer((req, res) => {
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    res.end(`<!doctype html><meta name="viewport" content="width=device-width"><title>Guide</title><h1>Our guide</h1>${html}`);
  });
  await new Promise((r) => server.listen(port, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${server.address().port}`, close: () => server.close() };
}

let browser;
let demo;
let guide;
let stranger;
before(async () => {
  browser = await launchBrowser();
  // The guide's origin must be known before usher starts: reserve both sites first.
  guide = await site("");
  stranger = await site("");
  guide.close();
  stranger.close();
  demo = await startDemo({ USHER_ALLOWED_ORIGINS: guide.url });
  const page = snippet.replace("https://usher.example.com", demo.base);
  guide = await site(page, Number(new URL(guide.url).port));
  stranger = await site(page, Number(new URL(stranger.url).port));
});
after(async () => {
  await browser?.close();
  await demo?.stop();
  guide?.close();
  stranger?.close();
});

test("the README's request form works from a site in allowed_origins, and only from there", async () => {
  const friend = await browser.newContext({ viewport: PHONE, isMobile: true, hasTouch: true, locale: "es-ES" });
  const phone = await friend.newPage();
  await phone.goto(guide.url);
  await phone.fill("input[name=name]", "Marta");
  await phone.fill("input[name=email]", "marta@example.com");
  await phone.fill("textarea[name=note]", "La prima de Ana");
  await phone.click("#ask-usher button");
  await phone.waitForFunction(() => document.querySelector("[role=status]").textContent.length > 0);
  assert.match(await phone.textContent("[role=status]"), /Solicitud enviada/);
  await phone.screenshot({ path: join(shotsDir, "embed-guide-phone.png"), fullPage: true });

  // A mistake comes back readable too.
  await phone.fill("input[name=name]", "Marta");
  await phone.fill("input[name=email]", "marta@example.com");
  await phone.click("#ask-usher button");
  await phone.waitForFunction(() => /pendiente|pending|espera/i.test(document.querySelector("[role=status]").textContent));

  // Any other site is refused by the browser's own CORS check.
  const other = await friend.newPage();
  await other.goto(stranger.url);
  const refused = await other.evaluate(async (base) => {
    try {
      await fetch(`${base}/api/v1/requests`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ name: "Mallory", email: "mallory@example.com" }),
      });
      return false;
    } catch {
      return true;
    }
  }, demo.base);
  assert.ok(refused, "a site not in allowed_origins cannot post");

  // The owner sees the request in the queue, and only that one.
  const owner = await browser.newContext({ viewport: DESKTOP });
  const page = await owner.newPage();
  await signIn(page, demo.base, demo.user, demo.password);
  await page.goto(`${demo.base}/admin/requests`);
  assert.ok(await page.isVisible("text=La prima de Ana"));
  assert.equal(await page.locator("text=Mallory").count(), 0);
  await owner.close();
  await friend.close();
});
