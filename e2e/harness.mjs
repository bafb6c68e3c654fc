// Starts the real usher binary on a free port with a fresh data dir, and a headless Chromium.
import { spawn } from "node:child_process";
import { mkdtempSync, mkdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { createInterface } from "node:readline";
import { chromium } from "playwright-core";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
export const shotsDir = join(root, "target", "e2e");
mkdirSync(shotsDir, { recursive: true });

export const PHONE = { width: 390, height: 844 };
export const DESKTOP = { width: 1280, height: 800 };

/** Runs `usher serve` and resolves once it printed its address (and setup link, if any). */
export async function startUsher(extraEnv = {}) {
  const dataDir = mkdtempSync(join(tmpdir(), "usher-e2e-"));
  const bin = process.env.USHER_BIN || join(root, "target", "debug", "usher");
  const child = spawn(bin, ["serve", "--bind", "127.0.0.1:0", "--data-dir", dataDir], {
    env: { ...process.env, USHER_LOG: "info", ...extraEnv },
    stdio: ["ignore", "ignore", "pipe"],
  });
  const lines = createInterface({ input: child.stderr });
  let base = null;
  let setupUrl = null;
  const log = [];
  await new Promise((resolve, reject) => {
    child.on("exit", (code) => reject(new Error(`usher exited early (${code}):\n${log.join("\n")}`)));
    lines.on("line", (line) => {
      log.push(line);
      const listening = line.match(/listening on (http:\/\/\S+)/);
      if (listening) base = listening[1];
      const setup = line.match(/(http:\/\/\S+\/setup\?token=\S+)/);
      if (setup) setupUrl = setup[1];
      if (base && setupUrl) resolve();
    });
  });
  return {
    base,
    setupUrl,
    log,
    async stop() {
      child.kill("SIGTERM");
      await new Promise((r) => child.once("exit", r));
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export async function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
      "--disable-quic",
    ],
  });
}

/** Runs `usher demo` (fake Plex and Jellyfin, an admin, an invite) and reads what it prints. */
export async function startDemo(extraEnv = {}) {
  const bin = process.env.USHER_BIN || join(root, "target", "debug", "usher");
  const child = spawn(bin, ["demo", "--bind", "127.0.0.1:0"], {
    env: { ...process.env, USHER_LOG: "warn", ...extraEnv },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines = createInterface({ input: child.stdout });
  const out = [];
  const info = await new Promise((resolve, reject) => {
    const found = {};
    child.on("exit", (code) => reject(new Error(`usher demo exited early (${code}):\n${out.join("\n")}`)));
    lines.on("line", (line) => {
      out.push(line);
      const admin = line.match(/admin:\s+(http:\/\/\S+)\/login\s+user: (\S+)\s+password: (\S+)/);
      if (admin) Object.assign(found, { base: admin[1], user: admin[2], password: admin[3] });
      const invite = line.match(/invite link:\s+(http:\/\/\S+)/);
      if (invite) found.invite = invite[1];
      const emby = line.match(/demo Emby:\s+(http:\/\/\S+)\s+API key: (\S+)/);
      if (emby) Object.assign(found, { embyUrl: emby[1], embyKey: emby[2] });
      const abs = line.match(/demo Audiobookshelf:\s+(http:\/\/\S+)\s+API key: (\S+)/);
      if (abs) Object.assign(found, { absUrl: abs[1], absKey: abs[2] });
      const nd = line.match(/demo Navidrome:\s+(http:\/\/\S+)\s+user: (\S+)\s+password: (\S+)/);
      if (nd) Object.assign(found, { ndUrl: nd[1], ndUser: nd[2], ndPassword: nd[3] });
      const komga = line.match(/demo Komga:\s+(http:\/\/\S+)\s+API key: (\S+)/);
      if (komga) Object.assign(found, { komgaUrl: komga[1], komgaKey: komga[2] });
      const kavita = line.match(/demo Kavita:\s+(http:\/\/\S+)\s+API key: (\S+)/);
      if (kavita) Object.assign(found, { kavitaUrl: kavita[1], kavitaKey: kavita[2] });
      const romm = line.match(/demo RomM:\s+(http:\/\/\S+)\s+API key: (\S+)/);
      if (romm) Object.assign(found, { rommUrl: romm[1], rommKey: romm[2] });
      const chat = line.match(/demo Telegram chat:\s+(http:\/\/\S+)/);
      if (chat) found.telegramChat = chat[1];
      if (found.base && found.invite && found.embyUrl && found.absUrl && found.ndUrl && found.komgaUrl && found.kavitaUrl && found.rommUrl && found.telegramChat) resolve(found);
    });
  });
  return {
    ...info,
    async stop() {
      child.kill("SIGTERM");
      await new Promise((r) => child.once("exit", r));
    },
  };
}

/** Signs in on the login page of `base`. */
export async function signIn(page, base, user, password) {
  await page.goto(`${base}/login`);
  await page.fill("#username", user);
  await page.fill("#password", password);
  await Promise.all([page.waitForURL(`${base}/admin`), page.click("main button[type=submit]")]);
}

/** Ticks exactly the servers whose label contains `text` in a server picker within `scope`. */
export async function keepOnlyServers(scope, text) {
  const servers = scope.locator("input[name=server]");
  for (let i = 0; i < (await servers.count()); i++) {
    const box = servers.nth(i);
    const label = await box.evaluate((el) => el.parentElement.textContent);
    if (label.includes(text)) await box.check();
    else await box.uncheck();
  }
}

/** Uses the console's menu as a person does: on a phone the sections are behind "Menu", so it
 * is opened first; on a wide screen they are in the header row. `selector` is within the nav. */
export async function viaMenu(page, selector) {
  const menu = page.locator("header details.menu");
  if ((await menu.isVisible()) && !(await menu.evaluate((d) => d.open))) await menu.locator("summary").click();
  await page.locator(`header nav:visible ${selector}`).first().click();
}

/** The menu's entries, as its links read. */
export async function menuEntries(page) {
  return (await page.locator("header details.menu nav a").allTextContents()).map((t) => t.replace(/\s+/g, " ").trim());
}
