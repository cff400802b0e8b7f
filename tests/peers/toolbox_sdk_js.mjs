// The toolbox against the reference's JavaScript SDK, @toolbox-sdk/core, at every protocol
// version it offers. Run by tests/peers/toolbox_sdks.py, which starts the sdk_peer toolbox and
// its token issuer and passes, in TOOLBOX_SDK_JS_CONFIG (JSON): the server's base URL, the SDK's
// install folder, the versions, the tokens, and the rows each call must answer (read from the
// database). Prints one line per check and `js: N passed, M failed` last; exits 1 on a failure.

import {readFileSync} from 'node:fs';
import {createRequire} from 'node:module';
import {join} from 'node:path';

const config = JSON.parse(process.env.TOOLBOX_SDK_JS_CONFIG ?? '{}');
const require = createRequire(join(config.sdkDir, 'package.json'));
const {ToolboxClient} = require('@toolbox-sdk/core');
const manifest = join(config.sdkDir, 'node_modules', '@toolbox-sdk', 'core', 'package.json');
const sdkVersion = JSON.parse(readFileSync(manifest, 'utf8')).version;

const PUBLIC = ['count_rooms', 'find_rooms', 'rooms_in_cities'];
const STAFF = ['cancel_reservation', 'my_reservations', 'team_reservations'];
const ALL = [...PUBLIC, ...STAFF].sort();

let passed = 0;
let failed = 0;

function check(label, condition, detail = '') {
  if (condition) {
    passed += 1;
    console.log(`ok   ${label}`);
  } else {
    failed += 1;
    console.log(`FAIL ${label}: ${typeof detail === 'string' ? detail : JSON.stringify(detail)}`);
  }
  return condition;
}

// Deep equality of JSON values (object key order ignored).
function same(a, b) {
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => same(x, b[i]));
  }
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    const keys = Object.keys(a).sort();
    return same(keys, Object.keys(b).sort()) && keys.every(k => same(a[k], b[k]));
  }
  return a === b;
}

function equal(label, got, expected) {
  return check(label, same(got, expected), `got ${JSON.stringify(got)}, expected ${JSON.stringify(expected)}`);
}

async function resultOf(label, call) {
  try {
    const text = await call();
    try {
      return JSON.parse(text);
    } catch {
      return `<not JSON: ${text}>`;
    }
  } catch (e) {
    check(`${label}: the call succeeds`, false, `${e?.name}: ${e?.message}`);
    return undefined;
  }
}

async function expectReject(label, call, ...words) {
  try {
    const got = await call();
    check(`${label}: is refused`, false, `no error; got ${JSON.stringify(got)}`);
  } catch (e) {
    check(`${label}: is refused`, true);
    for (const word of words) {
      check(`${label}: the error names \`${word}\``, String(e?.message).includes(word), e?.message);
    }
  }
}

const names = tools => tools.map(t => t.getName()).sort();
const paramNames = tool => Object.keys(tool.getParamSchema().shape).sort();

async function checks(version) {
  const tag = `@toolbox-sdk/core ${version}`;
  const {base, tokens, expected} = config;
  const alice = () => tokens.alice_corp;
  const carol = async () => tokens.carol_partner;
  const client = new ToolboxClient(base, undefined, undefined, version);

  // The default toolset at /mcp/ and the named ones.
  equal(`${tag}: loadToolset() loads every tool`, names(await client.loadToolset()), ALL);
  equal(`${tag}: loadToolset('public')`, names(await client.loadToolset('public')), PUBLIC);
  const staff = await client.loadToolset('staff', {corp: alice, partner: carol});
  equal(`${tag}: loadToolset('staff') with both services' getters`, names(staff), STAFF);

  // Plain parameters, results compared with the database.
  const find = await client.loadTool('find_rooms');
  equal(`${tag}: find_rooms takes its four parameters`, paramNames(find), ['city', 'max_price', 'min_beds', 'sea_view']);
  equal(`${tag}: find_rooms Basel`, await resultOf(`${tag}: find_rooms Basel`, () => find({city: 'Basel'})),
    expected.findBasel);
  equal(`${tag}: find_rooms Zurich under 300 with a view`,
    await resultOf(`${tag}: find_rooms Zurich`, () => find({city: 'Zurich', max_price: 300, sea_view: true})),
    expected.findZurichView);
  const cities = await client.loadTool('rooms_in_cities');
  equal(`${tag}: rooms_in_cities Basel and Geneva`,
    await resultOf(`${tag}: rooms_in_cities`, () => cities({cities: ['Basel', 'Geneva']})), expected.roomsInCities);
  const count = await client.loadTool('count_rooms');
  equal(`${tag}: count_rooms`, await resultOf(`${tag}: count_rooms`, () => count()), expected.countRooms);
  await expectReject(`${tag}: find_rooms with a string for max_price (the SDK's own check)`,
    () => find({city: 'Basel', max_price: 'cheap'}), 'max_price');

  // Bound parameters.
  const bern = await client.loadTool('find_rooms', {}, {city: 'Bern'});
  equal(`${tag}: a bound parameter leaves the schema`, paramNames(bern), ['max_price', 'min_beds', 'sea_view']);
  equal(`${tag}: find_rooms bound to Bern, under 120`,
    await resultOf(`${tag}: find_rooms bound`, () => bern({max_price: 120})), expected.findBernBound);
  const bernLater = find.bindParams({city: async () => 'Bern', max_price: () => 120});
  equal(`${tag}: find_rooms bound to (async) callables`,
    await resultOf(`${tag}: find_rooms bound to callables`, () => bernLater()), expected.findBernBound);
  await expectReject(`${tag}: a bound parameter passed again`, () => bern({city: 'Basel'}), 'city');

  // An authenticated parameter: `guest` comes from the token.
  const mine = await client.loadTool('my_reservations');
  equal(`${tag}: my_reservations hides \`guest\``, paramNames(mine), ['include_cancelled']);
  await expectReject(`${tag}: my_reservations without a token getter`, () => mine(), 'corp');
  const mineCorp = mine.addAuthTokenGetter('corp', alice);
  equal(`${tag}: my_reservations as alice (corp)`,
    await resultOf(`${tag}: my_reservations as alice`, () => mineCorp()), expected.aliceReservations);
  const minePartner = await client.loadTool('my_reservations', {partner: carol});
  equal(`${tag}: my_reservations as carol (partner), cancelled too`,
    await resultOf(`${tag}: my_reservations as carol`, () => minePartner({include_cancelled: true})), expected.carolAll);

  // authRequired with an authenticated parameter, and authRequired alone.
  const team = await client.loadTool('team_reservations', {corp: alice});
  equal(`${tag}: team_reservations takes nothing from the caller`, paramNames(team), []);
  equal(`${tag}: team_reservations of alice's team`,
    await resultOf(`${tag}: team_reservations`, () => team()), expected.salesTeam);
  const bareTeam = await client.loadTool('team_reservations');
  await expectReject(`${tag}: team_reservations without a token getter`, () => bareTeam(), 'corp');
  await expectReject(`${tag}: team_reservations with only a partner getter`,
    () => client.loadTool('team_reservations', {partner: carol}), 'partner');
  // authRequired alone. The server accepts a token of any one of the tool's services (as the
  // reference does), but this SDK wants a getter for every one of them before it sends the call.
  const cancel = await client.loadTool('cancel_reservation', {corp: alice, partner: carol});
  equal(`${tag}: cancel_reservation 6`,
    await resultOf(`${tag}: cancel_reservation`, () => cancel({reservation_id: 6})), expected.cancelled6);
  const forged = await client.loadTool('cancel_reservation', {corp: () => tokens.wrong_audience});
  await expectReject(`${tag}: cancel_reservation with a token the server refuses`, () => forged({reservation_id: 6}));
}

console.log(`@toolbox-sdk/core ${sdkVersion} on Node ${process.version}`);
for (const version of config.versions ?? []) {
  try {
    await checks(version);
  } catch (e) {
    check(`@toolbox-sdk/core ${version}: ran to the end`, false, e?.stack ?? String(e));
  }
}
console.log(`js: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
