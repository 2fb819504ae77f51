// Per page, what a first visit downloads (bytes as transferred, brotli as
// served) and its time to interactive: from navigation start to the
// `latchkey:interactive` performance mark, set when the app has hydrated
// (or, on the sign-in pages, when their script has run). Chromium, headless,
// empty cache each run, on localhost. Run by bench/run; never part of the tests.
// Usage: node bench/pages.mjs <base URL> <password> <person> <administrator> [runs]
// (two accounts with that password: My Account is measured as each, since
// administrators load the bundle with the console.)
import { createRequire } from 'node:module';

const require = createRequire(new URL('../end2end/package.json', import.meta.url));
const { chromium } = require('@playwright/test');

const [base, password, person, admin, runsArg] = process.argv.slice(2);
const runs = Number(runsArg ?? 7);
const browser = await chromium.launch({
  executablePath: process.env.LATCHKEY_CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
});

/** Opens `path` in a fresh context (empty cache), signed in as `username` first if given. */
async function visit(path, username) {
  const context = await browser.newContext();
  const page = await context.newPage();
  if (username) {
    // Sign in through the API so the page under test is the first to load anything.
    const r = await page.request.post(`${base}/api/auth/login`, { form: { identifier: username, password }, headers: { Origin: base } });
    if (!r.ok()) throw new Error(`sign-in failed: ${r.status()}`);
  }
  // Each size is read while the context is open (reading it later can miss some).
  const sizes = [];
  page.on('requestfinished', (req) => sizes.push(req.sizes().then((s) => s.responseBodySize)));
  await page.goto(base + path);
  await page.waitForFunction(() => performance.getEntriesByName('latchkey:interactive').length > 0);
  const tti = await page.evaluate(() => performance.getEntriesByName('latchkey:interactive')[0].startTime);
  await page.waitForLoadState('networkidle');
  const bytes = (await Promise.all(sizes)).reduce((a, b) => a + b, 0);
  await context.close();
  return { tti, bytes };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(`page                                   transferred   time to interactive (median of ${runs}, min–max)`);
const pages = [
  ['/login', '/login', null],
  ['/myaccount/security', '/myaccount/security', person],
  ['/myaccount/security (administrator)', '/myaccount/security', admin],
];
for (const [label, path, username] of pages) {
  const got = [];
  for (let i = 0; i < runs; i++) got.push(await visit(path, username));
  const ttis = got.map((g) => g.tti);
  console.log(
    `${label.padEnd(38)} ${String(median(got.map((g) => g.bytes))).padStart(9)} B   ` +
      `${median(ttis).toFixed(0)} ms (${Math.min(...ttis).toFixed(0)}–${Math.max(...ttis).toFixed(0)})`,
  );
}
await browser.close();
