// Real-browser checks of the reintegra dashboards.
//
// Starts the demo server (bundled fixtures, a fresh temporary data folder, a free
// port), opens the index and every dashboard in French and English in Debian's
// Chromium through playwright-core, and checks what readers get:
//
//   - no axe-core violation of the WCAG 2 A/AA rules (2.0, 2.1, 2.2);
//   - no console error or uncaught exception, no failed request, no response >= 400;
//   - with JavaScript disabled, every chart (inline <svg>) and every table is there
//     and shows (tables behind a <details> open natively, with no script);
//   - printed (media print): charts and tables visible, navigation and filters hidden;
//   - on a phone (390 px wide) the page does not scroll sideways.
//
// It signs in with the account the demo creates (the demo prints its password) and
// checks the login page itself signed out.
//
// It saves full-page screenshots of every page (both languages, desktop 1280 px and
// phone 390 px) under target/browser-screenshots/ at the repository root.
//
// Exits 0 when everything passes, 1 when a check fails, 2 when the suite itself could
// not run (no server binary, no browser, server not starting); the last line is
// always "browser: N pages checked, M failures".
//
// Environment:
//   REINTEGRA_BIN     the server binary (default: $CARGO_TARGET_DIR/release/reintegra,
//                     with CARGO_TARGET_DIR defaulting to ~/.cache/reintegra-target)
//   CHROMIUM          the browser (default: /usr/bin/chromium)
//   SCREENSHOT_DIR    where screenshots go (default: <repo>/target/browser-screenshots)

import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';

const require = createRequire(import.meta.url);
const AXE_SOURCE = require('axe-core').source;

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '..', '..');

/** Every page the server offers to the public; the index's links must match. */
const DASHBOARDS = ['overview', 'returns', 'psychosocial', 'campaigns', 'training', 'ponam', 'results', 'budget'];
const LANGUAGES = [
  // French is the default: no query parameter, a French-speaking browser.
  { code: 'fr', query: '', locale: 'fr-FR' },
  { code: 'en', query: 'lang=en', locale: 'en-GB' },
];
const DESKTOP = { width: 1280, height: 900 };
const PHONE = { width: 390, height: 844 };
const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'];
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const NAV_TIMEOUT_MS = 30_000;
const SERVER_START_TIMEOUT_MS = 180_000;

// --- small helpers ------------------------------------------------------------------

class SetupError extends Error {}

function log(line) {
  process.stdout.write(`${line}\n`);
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function serverBinary() {
  if (process.env.REINTEGRA_BIN) return process.env.REINTEGRA_BIN;
  const target = process.env.CARGO_TARGET_DIR || path.join(os.homedir(), '.cache', 'reintegra-target');
  return path.join(target, 'release', 'reintegra');
}

// --- the server ---------------------------------------------------------------------

/** Starts `reintegra demo` on a free port with a fresh data folder; resolves once /healthz answers 200. */
async function startServer(tmp) {
  const source = serverBinary();
  if (!fs.existsSync(source)) {
    throw new SetupError(
      `no server binary at ${source}: build it with \`cargo build --release\` ` +
        `(same CARGO_TARGET_DIR) or set REINTEGRA_BIN`,
    );
  }
  // Run a private copy: other builds sharing the target folder may replace the
  // original while the suite runs.
  const bin = path.join(tmp, 'reintegra');
  fs.copyFileSync(source, bin);
  fs.chmodSync(bin, 0o755);

  let lastError = null;
  for (let attempt = 1; attempt <= 3; attempt++) {
    const port = await freePort();
    const dir = path.join(tmp, `demo-${attempt}`);
    const logFile = path.join(tmp, `server-${attempt}.log`);
    const out = fs.openSync(logFile, 'w');
    const child = spawn(
      bin,
      [
        'demo',
        '--bind', `127.0.0.1:${port}`,
        '--dir', dir,
        '--fixtures', 'fixtures',
        '--queries', 'queries',
        '--policy', 'disclosure.toml',
        '--dashboards', 'dashboards',
      ],
      { cwd: REPO, stdio: ['ignore', out, out] },
    );
    fs.closeSync(out);
    let exited = null;
    child.on('exit', (code, signal) => {
      exited = { code, signal };
    });
    const base = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + SERVER_START_TIMEOUT_MS;
    while (Date.now() < deadline && !exited) {
      try {
        const res = await fetch(`${base}/healthz`);
        if (res.status === 200) {
          // The demo prints the password of its account; the suite signs in with it.
          const printed = fs.readFileSync(logFile, 'utf8');
          const password = printed.match(/^password:\s+(\S+)/m)?.[1];
          if (!password) throw new SetupError(`the demo did not print its account's password; its output:\n${printed}`);
          return { base, child, logFile, password };
        }
      } catch {
        // not listening yet
      }
      await sleep(250);
    }
    const tail = fs.readFileSync(logFile, 'utf8').split('\n').slice(-20).join('\n');
    if (!exited) {
      child.kill('SIGKILL');
      throw new SetupError(
        `the demo server did not answer /healthz within ${SERVER_START_TIMEOUT_MS / 1000} s; its log ends with:\n${tail}`,
      );
    }
    lastError = `the demo server exited (${exited.signal ?? `status ${exited.code}`}); its log ends with:\n${tail}`;
    // Another process may have taken the port between our probe and the bind: retry.
  }
  throw new SetupError(lastError);
}

async function stopServer(server) {
  if (!server || server.child.exitCode !== null || server.child.signalCode !== null) return;
  const gone = new Promise((r) => server.child.once('exit', r));
  server.child.kill('SIGTERM');
  const timedOut = await Promise.race([gone.then(() => false), sleep(10_000).then(() => true)]);
  if (timedOut) {
    server.child.kill('SIGKILL');
    await gone;
  }
}

// --- the checks ---------------------------------------------------------------------

/** A page opened in a context, with everything that went wrong while loading it. */
async function open(context, url, problems, view) {
  const page = await context.newPage();
  page.setDefaultTimeout(NAV_TIMEOUT_MS);
  page.on('console', (msg) => {
    if (msg.type() === 'error') {
      const where = msg.location()?.url ? ` (${msg.location().url})` : '';
      problems.push(`${view}: console error: ${msg.text()}${where}`);
    }
  });
  page.on('pageerror', (err) => problems.push(`${view}: uncaught exception: ${err.message}`));
  page.on('requestfailed', (req) =>
    problems.push(`${view}: request failed: ${req.method()} ${req.url()} (${req.failure()?.errorText ?? 'unknown'})`),
  );
  page.on('response', (res) => {
    if (res.status() >= 400) {
      problems.push(`${view}: ${res.status()} for ${res.request().method()} ${res.url()}`);
    }
  });
  const response = await page.goto(url, { waitUntil: 'load' });
  if (!response) {
    problems.push(`${view}: no response for ${url}`);
  } else if (response.status() !== 200) {
    problems.push(`${view}: the page answered ${response.status()}, expected 200`);
  }
  return page;
}

/** What a page holds, as the reader's browser lays it out. Runs no page script. */
async function inventory(page) {
  return page.evaluate(() => {
    const box = (el) => {
      const r = el.getBoundingClientRect();
      return {
        width: r.width,
        height: r.height,
        // checkVisibility also sees content that is laid out but not rendered, such as
        // the inside of a closed <details>.
        visible:
          r.width > 0 &&
          r.height > 0 &&
          el.checkVisibility({ contentVisibilityAuto: true, visibilityProperty: true, opacityProperty: true }),
      };
    };
    const describe = (el) => {
      const panel = el.closest('[id]');
      return panel ? `#${panel.id}` : el.tagName.toLowerCase();
    };
    const svgs = [...document.querySelectorAll('main svg')].filter((s) => !s.parentElement.closest('svg'));
    return {
      lang: document.documentElement.lang,
      title: document.title,
      charts: svgs.map((s) => ({
        where: describe(s),
        titled: !!s.querySelector(':scope > title')?.textContent.trim(),
        // An inline trend (the results table) is small by design.
        spark: s.classList.contains('sparkline'),
        ...box(s),
      })),
      tables: [...document.querySelectorAll('main table')].map((t) => ({
        where: describe(t),
        inDetails: !!t.closest('details'),
        rows: t.querySelectorAll('tbody tr').length,
        ...box(t),
      })),
      panels: [...document.querySelectorAll('main figure.panel')].map((f) => ({
        where: describe(f),
        hasChart: !!f.querySelector('svg'),
        unavailable: !!f.querySelector('.unavailable'),
      })),
      nav: [...document.querySelectorAll('header nav')].map(box),
      filters: [...document.querySelectorAll('form.filters')].map(box),
      languageSwitch: [...document.querySelectorAll('header .lang')].map(box),
      links: [...document.querySelectorAll('a[href^="/d/"]')].map((a) => a.getAttribute('href')),
    };
  });
}

async function runAxe(page) {
  await page.evaluate(AXE_SOURCE);
  return page.evaluate(
    (tags) =>
      window.axe.run(document, {
        runOnly: { type: 'tag', values: tags },
        resultTypes: ['violations'],
      }),
    AXE_TAGS,
  );
}

/** Elements sticking out to the right of the viewport, for a readable failure. */
async function overflowingElements(page) {
  return page.evaluate(() => {
    const vw = document.documentElement.clientWidth;
    const out = [];
    for (const el of document.querySelectorAll('body *')) {
      const r = el.getBoundingClientRect();
      if (r.width > 0 && r.right > vw + 0.5) {
        // Report the outermost offenders only.
        if (out.some((o) => o.el.contains(el))) continue;
        const name =
          el.tagName.toLowerCase() +
          (el.id ? `#${el.id}` : '') +
          (el.classList.length ? `.${[...el.classList].join('.')}` : '');
        out.push({ el, text: `${name} (right edge ${Math.round(r.right)} px)` });
      }
    }
    return out.slice(0, 5).map((o) => o.text);
  });
}

function checkInventoryAgainst(label, got, want, problems) {
  if (got.charts.length !== want.charts.length) {
    problems.push(`${label}: ${got.charts.length} charts, but ${want.charts.length} with JavaScript on`);
  }
  if (got.tables.length !== want.tables.length) {
    problems.push(`${label}: ${got.tables.length} tables, but ${want.tables.length} with JavaScript on`);
  }
}

/** Signs in as the demo account through the login form; returns the session (cookies). */
async function signIn(browser, server) {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    await page.goto(`${server.base}/login?next=/`);
    await page.fill('input[name="username"]', 'demo');
    await page.fill('input[name="password"]', server.password);
    await Promise.all([page.waitForURL(`${server.base}/`), page.click('form.login button[type="submit"]')]);
    return await context.storageState();
  } finally {
    await context.close();
  }
}

/** All checks of one page in one language; returns its problems. */
async function checkPage(browser, base, target, language, shots, session) {
  const problems = [];
  const pathAndQuery = target.path + (language.query ? `${target.path.includes('?') ? '&' : '?'}${language.query}` : '');
  const url = base + pathAndQuery;
  // Pages behind the login are opened signed in; the login page itself, signed out.
  const contextOptions = { locale: language.locale, serviceWorkers: 'block', ...(target.signedOut ? {} : { storageState: session }) };
  const shot = (kind) => path.join(shots, `${target.name}-${language.code}-${kind}.png`);

  // 1. Desktop, JavaScript on: accessibility, console, network; screenshot.
  let reference;
  {
    const context = await browser.newContext({ ...contextOptions, viewport: DESKTOP });
    try {
      const page = await open(context, url, problems, 'desktop');
      reference = await inventory(page);
      if (reference.lang !== language.code) {
        problems.push(`desktop: <html lang="${reference.lang}">, expected "${language.code}"`);
      }
      if (target.dashboard) {
        if (reference.panels.length === 0 && reference.tables.length === 0) {
          problems.push('desktop: the dashboard shows no chart and no table');
        }
        for (const p of reference.panels) {
          if (!p.hasChart && !p.unavailable) {
            problems.push(`desktop: panel ${p.where} has neither a chart nor a "not published" note`);
          }
        }
      }
      for (const c of reference.charts) {
        if (!c.titled) problems.push(`desktop: the chart in ${c.where} has no <title>`);
      }
      const axe = await runAxe(page);
      for (const v of axe.violations) {
        const nodes = v.nodes
          .slice(0, 3)
          .map((n) => `      ${n.target.join(' ')}: ${(n.failureSummary ?? '').replace(/\s+/g, ' ').trim()}`)
          .join('\n');
        const more = v.nodes.length > 3 ? `\n      … and ${v.nodes.length - 3} more` : '';
        problems.push(`desktop: axe ${v.id} (${v.impact}): ${v.help} [${v.nodes.length} element(s)]\n${nodes}${more}`);
      }
      // Print view: same page, print media.
      await page.emulateMedia({ media: 'print' });
      const printed = await inventory(page);
      checkInventoryAgainst('print', printed, reference, problems);
      for (const c of printed.charts) {
        if (!c.visible) problems.push(`print: the chart in ${c.where} is not visible`);
      }
      for (const t of printed.tables) {
        if (!t.visible) problems.push(`print: the table in ${t.where} is not visible`);
      }
      if (printed.nav.some((n) => n.visible)) problems.push('print: the navigation is visible');
      if (printed.filters.some((f) => f.visible)) problems.push('print: the filter form is visible');
      if (printed.languageSwitch.some((l) => l.visible)) problems.push('print: the language switch is visible');
      await page.emulateMedia({ media: 'screen' });
      await page.screenshot({ path: shot('desktop'), fullPage: true });
    } finally {
      await context.close();
    }
  }

  // 2. JavaScript off: every chart and table is there; charts show, tables open natively.
  {
    const context = await browser.newContext({ ...contextOptions, viewport: DESKTOP, javaScriptEnabled: false });
    try {
      const page = await open(context, url, problems, 'no-JS');
      const got = await inventory(page);
      checkInventoryAgainst('no-JS', got, reference, problems);
      for (const c of got.charts) {
        const [minWidth, minHeight] = c.spark ? [80, 20] : [200, 40];
        if (!c.visible || c.width < minWidth || c.height < minHeight) {
          problems.push(
            `no-JS: the chart in ${c.where} does not show (${Math.round(c.width)}×${Math.round(c.height)} px)`,
          );
        }
      }
      // A table behind a <details> shows once its summary is clicked: no script needed.
      const closed = page.locator('main details:not([open]) > summary');
      for (let guard = 0; guard < 100 && (await closed.count()) > 0; guard++) await closed.first().click();
      const opened = await inventory(page);
      for (const t of opened.tables) {
        if (!t.visible) problems.push(`no-JS: the table in ${t.where} does not show`);
        if (t.rows === 0) problems.push(`no-JS: the table in ${t.where} has no rows`);
      }
    } finally {
      await context.close();
    }
  }

  // 3. Phone: no sideways scrolling; screenshot.
  {
    const context = await browser.newContext({
      ...contextOptions,
      viewport: PHONE,
      isMobile: true,
      hasTouch: true,
      deviceScaleFactor: 2,
    });
    try {
      const page = await open(context, url, problems, 'phone');
      const widths = await page.evaluate(() => ({
        viewport: window.innerWidth,
        client: document.documentElement.clientWidth,
        scroll: Math.max(document.documentElement.scrollWidth, document.body.scrollWidth),
      }));
      // The layout viewport is the phone's width when the page asks for it; content
      // wider than it makes the page scroll sideways (and a phone zoom out to show it).
      if (widths.client !== PHONE.width) {
        problems.push(
          `phone: the page is laid out ${widths.client} px wide, not at the phone's ${PHONE.width} px ` +
            '(is <meta name="viewport" content="width=device-width, initial-scale=1"> missing?)',
        );
      } else if (widths.scroll > widths.client || widths.viewport > widths.client) {
        const culprits = await overflowingElements(page);
        problems.push(
          `phone: the page scrolls sideways (content ${widths.scroll} px wide in a ${PHONE.width} px viewport); ` +
            `widest: ${culprits.join(', ') || 'unknown'}`,
        );
      }
      await page.screenshot({ path: shot('phone'), fullPage: true });
    } finally {
      await context.close();
    }
  }

  return { url: pathAndQuery, problems, charts: reference?.charts.length ?? 0, tables: reference?.tables.length ?? 0, links: reference?.links ?? [] };
}

// --- main ---------------------------------------------------------------------------

async function main() {
  const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
  if (!fs.existsSync(executablePath)) {
    throw new SetupError(`no browser at ${executablePath}: install Debian's chromium (apt-get install -y chromium) or set CHROMIUM`);
  }
  const shots = process.env.SCREENSHOT_DIR || path.join(REPO, 'target', 'browser-screenshots');
  fs.mkdirSync(shots, { recursive: true });
  for (const f of fs.readdirSync(shots)) {
    if (f.endsWith('.png')) fs.rmSync(path.join(shots, f));
  }

  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'reintegra-browser-'));
  let server;
  let browser;
  const cleanup = async () => {
    await browser?.close().catch(() => {});
    await stopServer(server).catch(() => {});
    fs.rmSync(tmp, { recursive: true, force: true });
  };
  for (const sig of ['SIGINT', 'SIGTERM']) {
    process.once(sig, () => {
      cleanup().finally(() => process.exit(130));
    });
  }

  const results = [];
  try {
    server = await startServer(tmp);
    log(`== server ${server.base} (data in ${tmp})`);
    browser = await chromium.launch({ executablePath, args: CHROMIUM_ARGS, timeout: 60_000 });
    log(`== ${executablePath} ${browser.version()}, axe-core ${require('axe-core/package.json').version}`);
    const session = await signIn(browser, server);
    log('== signed in as demo');

    const targets = [
      { name: 'login', path: '/login', dashboard: false, signedOut: true },
      { name: 'index', path: '/', dashboard: false },
      ...DASHBOARDS.map((id) => ({ name: id, path: `/d/${id}`, dashboard: true })),
      // The widest amounts (XOF), a quarter and its comparison.
      { name: 'budget-xof', path: '/d/budget?period=2019-Q3&compare=previous&currency=XOF', dashboard: true },
      { name: 'deliveries', path: '/deliveries', dashboard: false },
      { name: 'open', path: '/open/', dashboard: false },
    ];
    for (const target of targets) {
      for (const language of LANGUAGES) {
        let result;
        try {
          result = await checkPage(browser, server.base, target, language, shots, session);
        } catch (err) {
          result = { url: target.path, problems: [`the checks could not finish: ${err.message.split('\n')[0]}`], charts: 0, tables: 0, links: [] };
        }
        result.name = `${target.name} (${language.code})`;
        results.push(result);
        // Every dashboard the index links to is checked (a new one must be added above).
        if (target.name === 'index') {
          const linked = new Set(result.links.map((h) => h.split('?')[0].replace(/^\/d\//, '')));
          for (const id of linked) {
            if (!DASHBOARDS.includes(id)) result.problems.push(`the index links to /d/${id}, which this suite does not check: add it to DASHBOARDS`);
          }
          for (const id of DASHBOARDS) {
            if (!linked.has(id)) result.problems.push(`the index does not link to /d/${id}`);
          }
        }
        const status = result.problems.length === 0 ? 'ok  ' : 'FAIL';
        log(`${status} ${result.name.padEnd(20)} ${result.url.padEnd(24)} ${result.charts} charts, ${result.tables} tables`);
      }
    }
  } finally {
    await cleanup();
  }

  const failures = results.flatMap((r) => r.problems.map((p) => ({ page: r.name, url: r.url, problem: p })));
  if (failures.length > 0) {
    log('');
    log('== failures');
    for (const r of results.filter((r) => r.problems.length > 0)) {
      log(`-- ${r.name} ${r.url}`);
      for (const p of r.problems) log(`   ${p}`);
    }
  }
  const shown = path.relative(REPO, shots);
  log(`== screenshots in ${shown.startsWith('..') || path.isAbsolute(shown) ? shots : shown}/`);
  log(`browser: ${results.length} pages checked, ${failures.length} failures`);
  return failures.length === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    const message = err instanceof SetupError ? err.message : err.stack || String(err);
    log(`browser: the suite could not run: ${message}`);
    log('browser: 0 pages checked, 1 failures');
    process.exit(2);
  },
);
