// Every page of the console and of the friend side, at phone width: nothing wider than the
// screen, and every control a thumb can hit (44 × 44 px at least, WCAG 2.5.5). The admin side is
// walked by following its own links from the dashboard, so a new page is checked without being
// listed here.
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

/** What is wrong with the page's layout at this width, as sentences (empty when nothing is). */
export async function layoutProblems(page) {
  return page.evaluate(() => {
    const problems = [];
    const width = window.innerWidth;
    const over = document.documentElement.scrollWidth - width;
    if (over > 0) {
      const wide = [...document.querySelectorAll("body *")]
        .filter((el) => {
          const r = el.getBoundingClientRect();
          return r.width > 0 && r.right > width + 0.5 && getComputedStyle(el).position !== "fixed";
        })
        .filter((el) => ![...el.children].some((c) => c.getBoundingClientRect().right > width + 0.5))
        .slice(0, 3)
        .map((el) => `<${el.tagName.toLowerCase()}${el.className ? ` class="${el.className}"` : ""}> "${el.textContent.trim().slice(0, 40)}"`);
      problems.push(`${over}px wider than the screen: ${wide.join(", ")}`);
    }
    const visible = (el) => {
      const r = el.getBoundingClientRect();
      const s = getComputedStyle(el);
      return r.width > 0 && r.height > 0 && s.visibility !== "hidden" && s.display !== "none";
    };
    // A link inside a sentence is exempt (WCAG's inline exception); so is the skip link, which
    // only shows when focused.
    const inSentence = (a) => {
      if (getComputedStyle(a).display !== "inline") return false;
      const block = a.closest("p, li, td, small, span, dd, label, h1, h2, h3") || a.parentElement;
      return block.textContent.trim().length > a.textContent.trim().length + 2;
    };
    const controls = document.querySelectorAll(
      "a[href], button, select, textarea, summary, input:not([type=hidden])",
    );
    for (const el of controls) {
      // The skip link shows only when focused; the honeypot is there for robots alone.
      if (el.classList.contains("skip") || el.closest("[hidden], template, [aria-hidden=true]")) continue;
      if (el.tagName === "A" && inSentence(el)) continue;
      let target = el;
      // A box or a radio is hit through its label.
      if (el.matches("input[type=checkbox], input[type=radio]")) target = el.closest("label") || el;
      if (!visible(target)) continue;
      const r = target.getBoundingClientRect();
      if (r.height < 43.5 || r.width < 43.5) {
        const name = (el.getAttribute("aria-label") || el.textContent || el.name || el.type || "").trim().slice(0, 30);
        problems.push(`<${el.tagName.toLowerCase()}> "${name}" is ${Math.round(r.width)}×${Math.round(r.height)}px`);
      }
    }
    return problems;
  });
}

/** Same-origin links of the page under /admin that are pages (not downloads, not sign-out). */
async function adminLinks(page, base) {
  return page.evaluate((origin) => {
    return [...document.querySelectorAll("a[href]:not([download])")]
      .map((a) => new URL(a.getAttribute("href"), location.href))
      .filter((u) => u.origin === origin && u.pathname.startsWith("/admin") && !/\.(csv|json)$/.test(u.pathname))
      .map((u) => u.pathname + u.search);
  }, new URL(base).origin);
}

/** The page's shape: `/admin/members/12` and `/admin/members/13` are one page to check. */
function shape(path) {
  const [p, q] = path.split("?");
  const keys = q ? [...new URLSearchParams(q).keys()].sort().join("&") : "";
  return p.replace(/\/\d+(?=\/|$)/g, "/N").replace(/\/[A-Z0-9]{6,}(?=\/|$)/g, "/CODE") + (keys ? `?${keys}` : "");
}

async function check(page, url, problems, label) {
  const res = await page.goto(url);
  assert.ok(res.ok(), `${url} answered ${res.status()}`);
  const found = await layoutProblems(page);
  if (found.length) problems.push(`${label ?? url}:\n    ${found.join("\n    ")}`);
}

test("every admin page fits a phone and has thumb-sized controls", { timeout: 240_000 }, async () => {
  // A member, so the member pages are walked too.
  const code = demo.invite.split("/").pop();
  const res = await fetch(`${demo.base}/api/v1/invites/${code}/redeem`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ plex_username: "layout@example.com", username: "layoutfan", password: "a good password" }),
  });
  assert.equal(res.status, 201, await res.text());
  const owner = await browser.newContext({ viewport: PHONE, isMobile: true, hasTouch: true });
  const page = await owner.newPage();
  await signIn(page, demo.base, demo.user, demo.password);
  const seen = new Set();
  const queue = ["/admin"];
  const problems = [];
  let pages = 0;
  while (queue.length && pages < 60) {
    const path = queue.shift();
    const s = shape(path);
    if (seen.has(s)) continue;
    seen.add(s);
    pages++;
    await check(page, demo.base + path, problems, path);
    for (const next of await adminLinks(page, demo.base)) if (!seen.has(shape(next))) queue.push(next);
  }
  await page.goto(`${demo.base}/admin`);
  await page.screenshot({ path: join(shotsDir, "layout-dashboard-phone.png") });
  assert.ok(pages >= 15, `walked ${pages} admin pages: ${[...seen].join(", ")}`);
  assert.deepEqual(problems, [], `\n${problems.join("\n")}`);
  await owner.close();
});

test("every friend page fits a phone and has thumb-sized controls", async () => {
  const friend = await browser.newContext({ viewport: PHONE, isMobile: true, hasTouch: true });
  const page = await friend.newPage();
  const problems = [];
  for (const path of [demo.invite, "/join", "/guide", "/request", "/login"]) {
    await check(page, path.startsWith("http") ? path : demo.base + path, problems, path);
  }
  assert.deepEqual(problems, [], `\n${problems.join("\n")}`);
  await friend.close();
});

test("the public invite page stays within its weight budget, compressed, with nothing from elsewhere", async () => {
  const friend = await browser.newContext({ viewport: PHONE, isMobile: true, hasTouch: true });
  const page = await friend.newPage();
  const origins = new Set();
  page.on("request", (r) => origins.add(new URL(r.url()).origin));
  await page.goto(demo.invite, { waitUntil: "load" });
  const bytes = await page.evaluate(() =>
    [...performance.getEntriesByType("navigation"), ...performance.getEntriesByType("resource")].reduce((n, e) => n + e.transferSize, 0),
  );
  assert.ok(bytes > 1000, `the page was measured (${bytes} bytes)`);
  assert.ok(bytes <= 50 * 1024, `the invite page weighs ${bytes} bytes (budget 50 KB)`);
  assert.deepEqual([...origins], [new URL(demo.base).origin], "no third-party requests");
  await friend.close();
});
