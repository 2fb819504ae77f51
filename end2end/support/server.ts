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
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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

/**
 * Marks an account's email as verified straight in the database. Latchkey has
 * no verification flow yet; this gives tests a verified starting point.
 * Returns false when neither the sqlite3 command nor python3 is available.
 */
export function markEmailVerified(server: RunningServer, username: string): boolean {
  if (!/^[a-z0-9._-]+$/.test(username)) throw new Error(`odd username ${username}`);
  const sql = `UPDATE users SET email_verified = 1 WHERE username = '${username}';`;
  const check = `SELECT email_verified FROM users WHERE username = '${username}';`;
  const sqlite = spawnSync('sqlite3', ['-cmd', '.timeout 5000', server.databasePath, sql, check], { encoding: 'utf8' });
  if (!sqlite.error) {
    if (sqlite.status !== 0 || sqlite.stdout.trim() !== '1') throw new Error(`sqlite3 failed: ${sqlite.stderr}${sqlite.stdout}`);
    return true;
  }
  const py = spawnSync(
    'python3',
    ['-c', 'import sqlite3,sys; c=sqlite3.connect(sys.argv[1], timeout=5); c.execute(sys.argv[2]); c.commit(); print(c.execute(sys.argv[3]).fetchone()[0])', server.databasePath, sql, check],
    { encoding: 'utf8' },
  );
  if (py.error) return false;
  if (py.status !== 0 || py.stdout.trim() !== '1') throw new Error(`python3 sqlite3 failed: ${py.stderr}${py.stdout}`);
  return true;
}
