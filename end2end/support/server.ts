// Starting and stopping real Latchkey servers for the end-to-end tests, and
// creating accounts with the `latchkey` command line against their database.
//
// Every server gets its own temporary folder (SQLite database + log file) and
// its own free port, so workers and tests never share state. A server is
// always stopped (SIGTERM, then SIGKILL after a grace period) by whoever
// started it; as safety nets, a server is started under
// `setpriv --pdeathsig KILL` where available (the kernel kills it if the
// Playwright worker dies without cleaning up), and a process `exit` hook
// SIGKILLs any server still running.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** The end2end folder: relative paths in the environment are taken from here. */
const END2END_DIR = path.resolve(__dirname, '..');

function fromEnv(name: string, fallback: string): string {
  return path.resolve(END2END_DIR, process.env[name] || fallback);
}

/** The server binary (scripts/test passes LATCHKEY_BIN). */
export const LATCHKEY_BIN = fromEnv('LATCHKEY_BIN', '../target/debug/latchkey');
/** The built browser bundle (scripts/test passes LATCHKEY_SITE_ROOT). */
export const LATCHKEY_SITE_ROOT = fromEnv('LATCHKEY_SITE_ROOT', '../target/site');

/** The password every test account gets (the policy asks for 8 or more characters). */
export const DEFAULT_PASSWORD = 'correct horse battery staple';

const STARTUP_TIMEOUT_MS = 30_000;
const STOP_GRACE_MS = 5_000;

/** Fails early, with a way forward, when the build outputs are missing. */
export function checkBuildOutputs(): void {
  const missing: string[] = [];
  if (!existsSync(LATCHKEY_BIN)) missing.push(`server binary ${LATCHKEY_BIN} (cargo build -p server)`);
  if (!existsSync(path.join(LATCHKEY_SITE_ROOT, 'pkg', 'frontend.js')))
    missing.push(`browser bundle ${LATCHKEY_SITE_ROOT}/pkg (source scripts/tools.sh && build_client release)`);
  if (missing.length) throw new Error(`End-to-end tests need: ${missing.join('; ')}`);
}

export interface RunningServer {
  /** `http://localhost:<port>`: the public URL the server was configured with. */
  readonly url: string;
  readonly port: number;
  /** The temporary folder holding the database and the log. */
  readonly dir: string;
  readonly databaseUrl: string;
  readonly databasePath: string;
  /** Everything the server printed so far (ANSI colours removed). */
  log(): string;
  /** Stops the server (idempotent) and removes its folder unless LATCHKEY_E2E_KEEP is set. */
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of running) {
    try {
      child.kill('SIGKILL');
    } catch {
      /* already gone */
    }
  }
});

const ANSI = /\x1b\[[0-9;]*[A-Za-z]/g;

/** A port nobody listens on right now (the server may still lose a race for it; start() retries). */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      srv.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** The environment of a `latchkey` process: only our settings, none inherited from the shell. */
function serverEnv(settings: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('LATCHKEY_')) env[k] = v;
  return { ...env, NO_COLOR: '1', LATCHKEY_LOG_FORMAT: 'human', ...settings };
}

/** `setpriv --pdeathsig KILL` ties the server's life to this worker process when available. */
const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => existsSync(p));

function sleep(ms: number) {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * Starts a server with an empty database in a new temporary folder, on a free
 * port, and waits until GET /healthz answers 200 "ok".
 */
export async function startServer(label = 'server'): Promise<RunningServer> {
  checkBuildOutputs();
  let lastError: unknown;
  for (let attempt = 1; attempt <= 3; attempt++) {
    try {
      return await startOnce(label, await freePort());
    } catch (e) {
      lastError = e;
      // Most likely another process took the port between freePort() and bind: try another.
    }
  }
  throw lastError;
}

async function startOnce(label: string, port: number): Promise<RunningServer> {
  const dir = mkdtempSync(path.join(tmpdir(), `latchkey-e2e-${label}-`));
  const databasePath = path.join(dir, 'latchkey.db');
  const databaseUrl = `sqlite://${databasePath}?mode=rwc`;
  const url = `http://localhost:${port}`;
  const env = serverEnv({
    LATCHKEY_DATABASE_URL: databaseUrl,
    LATCHKEY_PUBLIC_URL: url,
    LATCHKEY_LISTEN: `127.0.0.1:${port}`,
    LATCHKEY_SECRET_KEY_FILE: path.join(dir, 'secret.key'),
    LATCHKEY_SITE_ROOT,
    // No SMTP server: every message is written here as an .eml file.
    LATCHKEY_MAIL_OUTBOX: path.join(dir, 'outbox'),
  });
  const [command, args] = SETPRIV
    ? [SETPRIV, ['--pdeathsig', 'KILL', '--', LATCHKEY_BIN, 'serve']]
    : [LATCHKEY_BIN, ['serve']];
  const child = spawn(command, args, { env, cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);

  let output = '';
  const collect = (chunk: Buffer) => {
    output += chunk.toString('utf8').replace(ANSI, '');
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code, signal) => {
      running.delete(child);
      resolve(code ?? (signal ? -1 : null));
    }),
  );
  let exitCode: number | null | undefined;
  void exited.then((c) => (exitCode = c));

  let stopped: Promise<void> | undefined;
  const stop = () =>
    (stopped ??= (async () => {
      if (exitCode === undefined) {
        child.kill('SIGTERM');
        const timer = sleep(STOP_GRACE_MS).then(() => 'timeout' as const);
        if ((await Promise.race([exited, timer])) === 'timeout') {
          child.kill('SIGKILL');
          await exited;
        }
      }
      try {
        writeFileSync(path.join(dir, 'server.log'), output);
      } catch {
        /* folder gone */
      }
      if (!process.env.LATCHKEY_E2E_KEEP) rmSync(dir, { recursive: true, force: true });
    })());

  const server: RunningServer = { url, port, dir, databaseUrl, databasePath, log: () => output, stop };

  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (exitCode !== undefined) {
      await stop();
      throw new Error(`latchkey exited (code ${exitCode}) before answering on ${url}:\n${output}`);
    }
    // Only this child's own "ready" line proves the port is ours: another
    // process may have taken it after freePort(), and would answer /healthz too.
    if (!output.includes('Latchkey is ready')) {
      await sleep(100);
      continue;
    }
    try {
      const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2_000) });
      if (res.status === 200 && (await res.text()).trim() === 'ok') return server;
    } catch {
      /* not listening yet */
    }
    await sleep(100);
  }
  await stop();
  throw new Error(`latchkey did not answer ${url}/healthz within ${STARTUP_TIMEOUT_MS} ms:\n${output}`);
}

/** A fresh server with an empty user table, and the one-time setup link it logged. */
export async function startFreshServerWithSetupLink(): Promise<{ server: RunningServer; setupUrl: string }> {
  const server = await startServer('setup');
  try {
    const pattern = new RegExp(`${escapeRegExp(server.url)}/setup\\?token=[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])`);
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      const found = server.log().match(pattern);
      if (found) return { server, setupUrl: found[0] };
      await sleep(50);
    }
    throw new Error(`No setup link in the log of a server with an empty database:\n${server.log()}`);
  } catch (e) {
    await server.stop();
    throw e;
  }
}

function escapeRegExp(s: string) {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export interface Account {
  username: string;
  email: string;
  password: string;
  admin: boolean;
}

/** `prefix-<8 random hex>`: unique per call, valid as a username (a-z0-9._-). */
export function uniqueName(prefix = 'user'): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`.toLowerCase();
}

/**
 * Creates an account with `latchkey user create` (or `admin create`) against
 * the server's database; the password goes to the command's stdin.
 */
export function createAccount(
  server: RunningServer,
  options: { prefix?: string; username?: string; email?: string; password?: string; admin?: boolean } = {},
): Account {
  const username = options.username ?? uniqueName(options.prefix);
  const account: Account = {
    username,
    email: options.email ?? `${username}@example.com`,
    password: options.password ?? DEFAULT_PASSWORD,
    admin: options.admin ?? false,
  };
  const env = serverEnv({
    LATCHKEY_DATABASE_URL: server.databaseUrl,
    LATCHKEY_SECRET_KEY_FILE: path.join(path.dirname(server.databaseUrl.replace(/^sqlite:\/\//, '').replace(/\?.*$/, '')), 'secret.key'),
    LATCHKEY_SITE_ROOT,
  });
  const args = [account.admin ? 'admin' : 'user', 'create', '--username', account.username, '--email', account.email];
  let detail = '';
  for (let attempt = 1; attempt <= 3; attempt++) {
    const r = spawnSync(LATCHKEY_BIN, args, { env, input: `${account.password}\n`, encoding: 'utf8', timeout: 30_000 });
    if (r.status === 0) return account;
    detail = `${r.error ?? ''}${r.stderr}${r.stdout}`.replace(ANSI, '');
    // The server holds the same SQLite file: retry only if it was busy.
    if (!/locked|busy/i.test(detail)) break;
  }
  throw new Error(`latchkey ${args.join(' ')} failed: ${detail}`);
}

/** A message Latchkey wrote to its outbox folder. */
export interface Mail {
  to: string;
  subject: string;
  /** The decoded text/plain part. */
  text: string;
  file: string;
}

/** Parses an .eml file as Latchkey writes it (multipart/alternative, base64 parts). */
function parseMail(file: string): Mail {
  const raw = readFileSync(file, 'utf8');
  const headerEnd = raw.indexOf('\r\n\r\n');
  const headers = raw.slice(0, headerEnd).replace(/\r\n[ \t]+/g, ' ').split('\r\n');
  const header = (name: string) => headers.find((h) => h.toLowerCase().startsWith(`${name.toLowerCase()}:`))?.slice(name.length + 1).trim() ?? '';
  const start = raw.indexOf('Content-Type: text/plain');
  const body = raw.slice(raw.indexOf('\r\n\r\n', start) + 4);
  const b64 = body.split('\r\n').filter((_, i, all) => !all.slice(0, i + 1).some((l) => l.startsWith('--'))).join('');
  return { to: header('To'), subject: header('Subject'), text: Buffer.from(b64, 'base64').toString('utf8'), file };
}

/** Every message in the server's outbox, oldest first. */
export function outbox(server: RunningServer): Mail[] {
  const dir = path.join(server.dir, 'outbox');
  if (!existsSync(dir)) return [];
  // Names are UUIDv7: they sort by time.
  return readdirSync(dir)
    .filter((f) => f.endsWith('.eml'))
    .sort()
    .map((f) => parseMail(path.join(dir, f)));
}

/** Waits (up to 10 s) for the `count`-th message to `to` whose subject contains `subject`. */
export async function waitForMail(server: RunningServer, to: string, subject: string, count = 1): Promise<Mail> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const found = outbox(server).filter((m) => m.to.includes(to) && m.subject.includes(subject));
    if (found.length >= count) return found[found.length - 1];
    await sleep(100);
  }
  throw new Error(`No mail to ${to} about "${subject}"; outbox: ${outbox(server).map((m) => `${m.to}: ${m.subject}`).join('; ')}`);
}

/** The first link in a message that goes to `pathname` on the server. */
export function linkIn(mail: Mail, pathname: string): string {
  const found = mail.text.match(new RegExp(`https?://\\S+${escapeRegExp(pathname)}\\?token=[A-Za-z0-9_-]+`));
  if (!found) throw new Error(`No ${pathname} link in:\n${mail.text}`);
  return found[0];
}
