// The page of `toolbox --ui` in a real browser: Debian's Chromium, driven by playwright-core.
//
// Starts the real binary (TOOLBOX_BIN, else target/debug/toolbox) with `--port 0 --ui` on a
// fresh demo database, reads its port from the start-up line, loads /ui, picks tools, fills
// their forms, runs them, and checks what the page shows against the database (read with the
// sqlite3 command): rows and column order, NULLs, template variants, an isError for bad input
// and for a database error, a truncated result, text that must stay text. Then the sdk_peer
// example (SDK_PEER_BIN, else target/debug/examples/sdk_peer), whose tools need tokens from
// auth services, against a loopback OpenID issuer made here: a call without a token is refused
// (401, shown as such), the same call with a token in the `corp_token` field returns the
// caller's rows. Last the auth_server example (AUTH_SERVER_BIN, else
// target/debug/examples/auth_server), under MCP authorization: the page asks for a bearer token,
// lists the tools once given one, and shows a 403 for a token without the tool's scope.
//
// Prints `ok` / `FAIL` lines and `N passed, M failed`; exits 1 on any failure. With
// UI_SCREENSHOT=path it also writes the README's screenshot there (docs/ui.png).
import { spawn, execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const TARGET = path.resolve(ROOT, process.env.CARGO_TARGET_DIR ?? 'target');
const TOOLBOX_BIN = process.env.TOOLBOX_BIN ?? path.join(TARGET, 'debug/toolbox');
const SDK_PEER_BIN = process.env.SDK_PEER_BIN ?? path.join(TARGET, 'debug/examples/sdk_peer');
const AUTH_SERVER_BIN = process.env.AUTH_SERVER_BIN ?? path.join(TARGET, 'debug/examples/auth_server');
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const MODULES = process.env.UI_TEST_DIR ?? path.join(ROOT, '.ci/ui');
const { chromium } = createRequire(path.join(MODULES, 'package.json'))('playwright-core');

// ---------------------------------------------------------------------------------------------
// Checks.

let passed = 0;
let failed = 0;

function check(label, ok, detail = '') {
  if (ok) {
    passed++;
    console.log(`ok   ${label}`);
  } else {
    failed++;
    console.log(`FAIL ${label}${detail ? `: ${detail}` : ''}`);
  }
  return ok;
}

function equal(label, got, expected) {
  const [g, e] = [JSON.stringify(got), JSON.stringify(expected)];
  return check(label, g === e, `got ${g}, expected ${e}`);
}

// ---------------------------------------------------------------------------------------------
// The server, the database, the issuer.

const stripAnsi = (text) => text.replace(/\x1b\[[0-9;]*m/g, '');

/// Starts `binary --port 0 --ui` and resolves once its start-up line names the port.
function startServer(binary, env) {
  if (!fs.existsSync(binary)) throw new Error(`no binary at ${binary} (set TOOLBOX_BIN / SDK_PEER_BIN, or build it)`);
  const child = spawn(binary, ['--port', '0', '--ui'], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${binary} did not start in 30 s:\n${log}`)), 30000);
    const read = (chunk) => {
      log += chunk;
      const m = /serving MCP at http:\/\/127\.0\.0\.1:(\d+)\/mcp/.exec(stripAnsi(log));
      if (m) {
        clearTimeout(timer);
        resolve({ child, base: `http://127.0.0.1:${m[1]}`, log: () => stripAnsi(log) });
      }
    };
    child.stdout.on('data', read);
    child.stderr.on('data', read);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${binary} exited (${code}) before serving:\n${log}`));
    });
  });
}

async function stopServer(server) {
  if (!server || server.child.exitCode !== null) return;
  const exited = new Promise((resolve) => server.child.on('exit', resolve));
  server.child.kill('SIGTERM');
  await exited;
}

/// Rows of `sql` on the SQLite file `db`, as the sqlite3 command reads them.
function sqlite(db, sql) {
  const out = execFileSync('sqlite3', ['-json', db, sql], { encoding: 'utf8' });
  return out.trim() ? JSON.parse(out) : [];
}

/// A cell as the page shows it: NULL for null, numbers and text as the server wrote them.
const shown = (v) => (v === null ? 'NULL' : String(v));

/// An OpenID issuer on 127.0.0.1: discovery and JWKS, RS256 tokens on demand.
async function startIssuer() {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const kid = 'ui-test';
  const documents = {};
  const server = http.createServer((req, res) => {
    const doc = documents[req.url];
    res.writeHead(doc ? 200 : 404, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(doc ?? {}));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${server.address().port}`;
  documents['/.well-known/openid-configuration'] = {
    issuer: url,
    jwks_uri: `${url}/jwks`,
    response_types_supported: ['id_token'],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: ['RS256'],
  };
  documents['/jwks'] = { keys: [{ ...publicKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' }] };
  const b64 = (value) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
  return {
    url,
    token(audience, claims) {
      const now = Math.floor(Date.now() / 1000);
      const input = `${b64({ alg: 'RS256', typ: 'JWT', kid })}.${b64({ iss: url, aud: audience, iat: now, nbf: now - 5, exp: now + 3600, ...claims })}`;
      return `${input}.${crypto.sign('sha256', Buffer.from(input), privateKey).toString('base64url')}`;
    },
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

// ---------------------------------------------------------------------------------------------
// The page.

/// Picks `tool` in the list and waits for its form.
async function pick(page, tool) {
  await page.click(`#tool-list .tool[data-tool="${tool}"]`);
  await page.waitForSelector(`#tool h2:has-text("${tool}")`);
}

/// Presses Run and waits for the answer's status line.
async function run(page) {
  await page.click('#run');
  await page.waitForSelector('#result-status');
  return (await page.textContent('#result-status')).trim();
}

/// The result table: its headings and its cells' text.
async function table(page) {
  return page.$eval('#result-table', (t) => ({
    columns: [...t.querySelectorAll('thead th')].map((th) => th.textContent),
    rows: [...t.querySelectorAll('tbody tr')].map((tr) => [...tr.children].map((td) => td.textContent)),
    nulls: t.querySelectorAll('td.null').length,
  }));
}

async function demo(browser) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'toolbox-ui-'));
  const db = path.join(dir, 'airline.db');
  const server = await startServer(TOOLBOX_BIN, { TOOLBOX_DEMO_DB: db });
  try {
    const info = await (await fetch(`${server.base}/ui/tools.json`)).json();
    const def = (name) => info.tools.find((t) => t.name === name);
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    const requests = [];
    page.on('request', (r) => r.url().endsWith('/mcp') && requests.push(r));

    const response = await page.goto(`${server.base}/ui`);
    equal('/ui leads to /ui/', new URL(page.url()).pathname, '/ui/');
    equal('the page is served with its policy', response.headers()['content-security-policy'], "default-src 'self'; frame-ancestors 'none'");
    await page.waitForSelector('#tool-list .tool');
    const listed = await page.$$eval('#tool-list .tool', (b) => b.map((x) => x.dataset.tool));
    equal('every tool is listed', listed, info.toolsets[0].tools);
    const list = requests.find((r) => r.headers()['mcp-method'] === 'tools/list');
    check('the list comes from tools/list at 2026-07-28', list && list.headers()['mcp-protocol-version'] === '2026-07-28'
      && JSON.parse(list.postData()).params._meta['io.modelcontextprotocol/protocolVersion'] === '2026-07-28');

    // A toolset narrows the list.
    await page.selectOption('#toolset', { label: 'traveller (4)' });
    equal('a toolset lists its tools', await page.$$eval('#tool-list .tool', (b) => b.map((x) => x.dataset.tool)), info.toolsets[1].tools);
    await page.selectOption('#toolset', { index: 0 });

    // search_flights: the form, the statement, the output columns.
    await pick(page, 'search_flights');
    const search = def('search_flights');
    equal('the form has a field per parameter, in order',
      await page.$$eval('#form [name]', (f) => f.map((x) => x.name)), ['origin', 'destination', 'departing_after', 'limit']);
    equal('limit is a number field with its bounds', await page.$eval('#param-limit', (x) => [x.type, x.min, x.max, x.placeholder]), ['number', '1', '100', '10']);
    check('origin is marked required', (await page.textContent('label[for="param-origin"]')).includes('required'));
    equal('the compiled statement is shown', (await page.textContent('.statement pre.sql')).trim(), search.statements[0].sql.trim());
    equal('the output columns are listed in order', await page.$$eval('.columns-table tbody td:first-child', (c) => c.map((x) => x.textContent)),
      search.statements[0].columns.map((c) => c.name));

    // Run it; compare with the database.
    await page.fill('#param-origin', 'SFO');
    await page.fill('#param-destination', 'JFK');
    await page.fill('#param-limit', '3');
    const before = requests.length;
    equal('a run shows its row count', await run(page), '3 rows');
    const call = requests.slice(before).find((r) => r.headers()['mcp-method'] === 'tools/call');
    const sent = call ? call.headers() : {};
    equal('the call carries the 2026-07-28 headers',
      [sent['mcp-protocol-version'], sent['mcp-name'], sent['mcp-param-origin']], ['2026-07-28', 'search_flights', 'SFO']);
    equal('the call sends the arguments typed', call && JSON.parse(call.postData()).params.arguments, { origin: 'SFO', destination: 'JFK', limit: 3 });
    const columns = search.statements[0].columns.map((c) => c.name);
    const expected = sqlite(db, `SELECT ${columns.join(', ')} FROM flights WHERE origin = 'SFO' AND destination = 'JFK' AND departure >= '1970-01-01' ORDER BY departure LIMIT 3`);
    let shownTable = await table(page);
    equal('the table has the described columns in order', shownTable.columns, columns);
    equal('the table holds the rows of the database', shownTable.rows, expected.map((r) => columns.map((c) => shown(r[c]))));
    check('the duration is shown', /^\d+(\.\d)? ms$/.test((await page.textContent('#result-time')).trim()));
    await page.click('details.raw summary >> nth=0');
    const raw = JSON.parse(await page.textContent('#result-raw'));
    equal('the raw JSON-RPC answer is shown', [raw.jsonrpc, raw.result.structuredContent.rows.length], ['2.0', 3]);
    if (process.env.UI_SCREENSHOT) {
      await page.click('details.raw summary >> nth=0');
      await page.$eval('#main', (m) => m.scrollTo(0, 0));
      await page.mouse.move(0, 0);
      await page.screenshot({ path: process.env.UI_SCREENSHOT });
      console.log(`     screenshot written to ${process.env.UI_SCREENSHOT}`);
    }

    // Bad input: an isError result, shown as such.
    await page.fill('#param-limit', '0');
    equal('bad input answers isError', await run(page), 'isError · the tool answered an error');
    equal('the error names the argument', (await page.textContent('#result-error')).trim(), 'invalid argument "limit": 0 is below the minimum 1');

    // A template parameter: the chosen statement is marked and is the one that runs.
    await pick(page, 'flight_stats');
    await page.selectOption('#param-group_by', { label: 'status' });
    const stats = def('flight_stats');
    const chosen = stats.statements.findIndex((s) => s.template.group_by === 'status');
    equal('each template variant is shown', await page.$$eval('.statement', (s) => s.length), stats.statements.length);
    equal('the chosen variant is marked', await page.$$eval('.statement.current', (s) => s.map((x) => Number(x.dataset.variant))), [chosen]);
    await run(page);
    shownTable = await table(page);
    const statsColumns = stats.statements[chosen].columns.map((c) => c.name);
    equal('a template variant returns what its statement returns',
      shownTable.rows, sqlite(db, stats.statements[chosen].sql).map((r) => statsColumns.map((c) => shown(r[c]))));

    // NULL is marked: a booking without a seat.
    await pick(page, 'book_seat');
    await page.fill('#param-flight_number', 'UA0008');
    await page.fill('#param-passenger', 'Ada Lovelace');
    await page.fill('#param-email', 'ada@example.com');
    equal('a write returns its row', await run(page), '1 row');
    shownTable = await table(page);
    const booking = sqlite(db, `SELECT id, passenger, seat FROM bookings WHERE id = ${Number(shownTable.rows[0][0])}`);
    equal('the booking is in the database, without a seat', booking, [{ id: Number(shownTable.rows[0][0]), passenger: 'Ada Lovelace', seat: null }]);
    equal('NULL is shown as NULL, marked', [shownTable.rows[0][2], shownTable.nulls], ['NULL', 1]);

    // A database error, and text that must stay text.
    await pick(page, 'execute_sql');
    await page.fill('#param-sql', 'SELECT nosuch FROM flights');
    equal('a database error answers isError', await run(page), 'isError · the tool answered an error');
    check('the database error is shown', (await page.textContent('#result-error')).includes('no such column: nosuch'));
    const html = '<img src=x onerror="window.__injected = 1">';
    await page.fill('#param-sql', `SELECT '${html}' AS html, NULL AS empty`);
    await run(page);
    shownTable = await table(page);
    equal('markup in a value is shown as text', shownTable.rows, [[html, 'NULL']]);
    check('markup in a value makes no element and runs nothing',
      (await page.$$('#result-table img')).length === 0 && (await page.evaluate(() => window.__injected)) === undefined);

    // A result cut at the 8 MiB cap says so.
    await page.fill('#param-sql', 'WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20) SELECT i, hex(randomblob(300000)) AS big FROM n');
    const status = await run(page);
    check('a truncated result shows the notice', (await page.$('#result-truncated')) !== null, status);
    const count = Number(/^(\d+) rows$/.exec(status)?.[1]);
    check('a truncated result shows fewer rows than matched', count > 0 && count < 20, status);

    // JSON values (PostgreSQL's json columns; SQLite has none) fold and unfold, and numbers keep
    // the digits the server wrote: an answer of that shape, served to the page in place of /mcp.
    await page.route('**/mcp', (route) => route.fulfill({
      status: 200,
      contentType: 'application/json',
      body: '{"jsonrpc":"2.0","id":99,"result":{"content":[{"type":"text","text":"[]"}],"structuredContent":{"rows":['
        + '{"doc":{"tags":["a","b"],"n":1},"price":49.00,"big":9007199254740993}],"truncated":true}}}',
    }));
    await page.fill('#param-sql', 'SELECT 1');
    await run(page);
    await page.unroute('**/mcp');
    shownTable = await table(page);
    equal('numbers keep their digits', shownTable.rows[0].slice(1), ['49.00', '9007199254740993']);
    check('a JSON cell starts folded', !(await page.$eval('td.json details', (d) => d.open)));
    await page.click('td.json summary');
    equal('a JSON cell unfolds to the whole value', JSON.parse(await page.textContent('td.json pre')), { tags: ['a', 'b'], n: 1 });

    equal('no script errors', errors, []);
    await page.close();
  } finally {
    await stopServer(server);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function auth(browser) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'toolbox-ui-auth-'));
  const db = path.join(dir, 'sdk-peer.db');
  const issuer = await startIssuer();
  const server = await startServer(SDK_PEER_BIN, { SDK_ISSUER: issuer.url, SDK_PEER_DB: db });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(`${server.base}/ui/#team_reservations`);
    await page.waitForSelector('#tool h2:has-text("team_reservations")');
    const authText = await page.textContent('#tool .auth');
    check('the page says which token the tool needs', authText.includes('corp') && authText.includes('corp_token'), authText);
    check('a parameter from a token has no field', (await page.$('#param-team')) === null && authText.includes('corp.team'), authText);
    equal('a call without the token is refused', await run(page), 'refused · HTTP 401');
    const refusal = await page.textContent('#result-error');
    check('the refusal is explained', refusal.includes('requires a verified token from corp') && refusal.includes('WWW-Authenticate'), refusal);

    const token = issuer.token('corp-apps', { sub: 'bob', team: 'ops' });
    // The server discovers the issuer in the background: wait until it accepts the token.
    for (let i = 0; i < 100; i++) {
      const r = await fetch(`${server.base}/mcp`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'MCP-Protocol-Version': '2025-11-25', corp_token: token },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'team_reservations', arguments: {} } }),
      });
      if (r.status === 200) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await page.click('#credentials summary');
    await page.fill('input[data-header="corp_token"]', token);
    const status = await run(page);
    const expected = sqlite(db, "SELECT id, guest, room_id FROM reservations WHERE team = 'ops' ORDER BY id");
    equal('with the token the call returns the team\'s rows', status, `${expected.length} rows`);
    equal('the rows are the database\'s', (await table(page)).rows, expected.map((r) => [r.id, r.guest, r.room_id].map(shown)));
    await page.click('details.raw summary >> nth=1');
    const request = await page.textContent('details.raw:nth-of-type(2) pre');
    check('the request shown hides the token', request.includes('corp_token: (hidden)') && !request.includes(token), request.slice(0, 400));
    await page.close();
  } finally {
    await stopServer(server);
    await issuer.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function bearer(browser) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'toolbox-ui-bearer-'));
  const db = path.join(dir, 'auth.db');
  const audience = 'http://127.0.0.1:5000/mcp';
  const issuer = await startIssuer();
  const server = await startServer(AUTH_SERVER_BIN, { ISSUER_URL: issuer.url, AUTH_EXAMPLE_DB: db, TOOLBOX_AUDIENCE: audience });
  try {
    const token = (scope) => issuer.token(audience, { sub: 'alice', scope });
    // The server discovers the issuer in the background: wait until it accepts a token.
    for (let i = 0; i < 100; i++) {
      const r = await fetch(`${server.base}/ui/tools.json`, { headers: { Authorization: `Bearer ${token('mcp:access')}` } });
      if (r.status === 200) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(`${server.base}/ui/`);
    await page.waitForSelector('#notice .box.error');
    const notice = await page.textContent('#notice');
    check('without a bearer token the page says it needs one', notice.includes('HTTP 401') && notice.includes('bearer token'), notice);
    check('the bearer field is offered', await page.isVisible('#bearer'));
    await page.fill('#bearer', token('mcp:access'));
    await page.click('#reload');
    await page.waitForSelector('#tool-list .tool');
    equal('with the token the tools are listed', await page.$$eval('#tool-list .tool', (b) => b.map((x) => x.dataset.tool)),
      ['cancel_booking', 'get_booking', 'list_flights']);
    await pick(page, 'get_booking');
    check('the page names the scope the tool needs', (await page.textContent('#tool .auth')).includes('bookings:read'));
    await page.fill('#param-id', '3');
    equal('a token without the tool\'s scope is refused', await run(page), 'refused · HTTP 403');
    check('the refusal names the scope', (await page.textContent('#result-error')).includes('bookings:read'));
    await page.fill('#bearer', token('mcp:access bookings:read'));
    equal('a token with the scope gets the row', await run(page), '1 row');
    equal('the row is the database\'s', (await table(page)).rows,
      sqlite(db, 'SELECT id, passenger, flight FROM bookings WHERE id = 3').map((r) => [r.id, r.passenger, r.flight].map(shown)));
    await page.close();
  } finally {
    await stopServer(server);
    await issuer.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
try {
  for (const [name, part] of [['demo', demo], ['auth', auth], ['bearer', bearer]]) {
    try {
      await part(browser);
    } catch (e) {
      check(`${name}: ran to the end`, false, e.stack ?? String(e));
    }
  }
} finally {
  await browser.close();
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
