// The page of `toolbox --ui` (see mod.rs beside this file).
//
// Plain JavaScript, no framework and no build step: the page is small enough to read whole, and
// what is served is exactly this file. Every piece of data (names, descriptions, SQL, cell
// values, error messages) reaches the page through textContent or a text node, never as HTML.
//
// It talks to the server as an MCP client at protocol 2026-07-28: `_meta` with the protocol
// version and client capabilities, and the MCP-Protocol-Version, Mcp-Method, Mcp-Name and
// Mcp-Param-* headers. `tools/list` gives the schemas and annotations; `tools.json` (made from
// the binary's static tables) the compiled statements, columns and authorization.
'use strict';

const PROTOCOL = '2026-07-28';

const state = {
  info: null, // tools.json
  listed: new Map(), // tool name -> its tools/list entry
  defs: new Map(), // tool name -> its tools.json entry
  toolset: 0, // index in info.toolsets
  current: null, // the selected tool's name
  nextId: 1,
};

const $ = (selector) => document.querySelector(selector);

// ---------------------------------------------------------------------------------------------
// The DOM, built from text only.

function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') el.className = value;
    else if (key.startsWith('on')) el.addEventListener(key.slice(2), value);
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

function clear(el) {
  while (el.firstChild) el.firstChild.remove();
  return el;
}

// ---------------------------------------------------------------------------------------------
// JSON that keeps what JSON.parse loses: numbers as the server wrote them (`49.00`, integers
// beyond 2^53) and the order of object keys (JavaScript puts integer-like keys first). Objects
// are Maps, numbers are Num.

class Num {
  constructor(text) {
    this.text = text;
  }
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const NUMBER_TEXT = new RegExp(`^${NUMBER.source}$`);

function parseJSON(text) {
  let i = 0;
  const fail = (what) => {
    throw new SyntaxError(`${what} at offset ${i}`);
  };
  const space = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i])) i++;
  };
  const token = (re) => {
    re.lastIndex = i;
    const m = re.exec(text);
    if (!m) return null;
    i = re.lastIndex;
    return m[0];
  };
  // A string is scanned by hand (a regular expression overflows on a value of megabytes) and
  // decoded, escapes checked, by JSON.parse.
  const string = () => {
    const start = i;
    if (text[i] !== '"') fail('expected a string');
    for (i++; i < text.length && text[i] !== '"'; i++) if (text[i] === '\\') i++;
    if (i >= text.length) fail('unterminated string');
    i++;
    return JSON.parse(text.slice(start, i));
  };
  const value = () => {
    space();
    const c = text[i];
    if (c === '{') {
      i++;
      const map = new Map();
      space();
      if (text[i] === '}') {
        i++;
        return map;
      }
      for (;;) {
        space();
        const key = string();
        space();
        if (text[i++] !== ':') fail("expected ':'");
        map.set(key, value());
        space();
        const next = text[i++];
        if (next === '}') return map;
        if (next !== ',') fail("expected ',' or '}'");
      }
    }
    if (c === '[') {
      i++;
      const array = [];
      space();
      if (text[i] === ']') {
        i++;
        return array;
      }
      for (;;) {
        array.push(value());
        space();
        const next = text[i++];
        if (next === ']') return array;
        if (next !== ',') fail("expected ',' or ']'");
      }
    }
    if (c === '"') return string();
    for (const [word, v] of [['true', true], ['false', false], ['null', null]]) {
      if (text.startsWith(word, i)) {
        i += word.length;
        return v;
      }
    }
    const number = token(NUMBER);
    if (number === null) fail('unexpected character');
    return new Num(number);
  };
  const result = value();
  space();
  if (i !== text.length) fail('unexpected text after the value');
  return result;
}

// JSON text of a value made of Maps, arrays, Num and plain values; `indent` pretty-prints.
function toJSON(v, indent = '', step = '') {
  if (v === null || v === undefined) return 'null';
  if (v instanceof Num) return v.text;
  if (typeof v === 'string' || typeof v === 'boolean' || typeof v === 'number') return JSON.stringify(v);
  const inner = indent + step;
  const nl = step ? '\n' : '';
  const sep = step ? ': ' : ':';
  if (Array.isArray(v)) {
    if (v.length === 0) return '[]';
    return `[${nl}${v.map((x) => inner + toJSON(x, inner, step)).join(`,${nl}`)}${nl}${indent}]`;
  }
  const entries = v instanceof Map ? [...v.entries()] : Object.entries(v);
  if (entries.length === 0) return '{}';
  const body = entries.map(([k, x]) => inner + JSON.stringify(k) + sep + toJSON(x, inner, step));
  return `{${nl}${body.join(`,${nl}`)}${nl}${indent}}`;
}

const pretty = (v) => toJSON(v, '', '  ');

// A plain value (from JSON.parse) in the exact form, so that it prints as the schema gave it.
function exact(v) {
  if (typeof v === 'number') return new Num(JSON.stringify(v));
  if (Array.isArray(v)) return v.map(exact);
  if (v && typeof v === 'object') return new Map(Object.entries(v).map(([k, x]) => [k, exact(x)]));
  return v;
}

// ---------------------------------------------------------------------------------------------
// Requests.

function credentialHeaders() {
  const headers = {};
  const bearer = $('#bearer').value.trim();
  if (bearer) headers.Authorization = `Bearer ${bearer}`;
  for (const input of document.querySelectorAll('#service-tokens input')) {
    const token = input.value.trim();
    if (token) headers[input.dataset.header] = token;
  }
  return headers;
}

// A header value as 2026-07-28 clients send it: plain when it is visible ASCII, else base64.
function headerValue(text) {
  if (/^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$/.test(text)) return text;
  let binary = '';
  for (const byte of new TextEncoder().encode(text)) binary += String.fromCharCode(byte);
  return `=?base64?${btoa(binary)}?=`;
}

// One JSON-RPC request at 2026-07-28; the answer, its timing and what was sent.
async function rpc(path, method, params, extraHeaders = {}) {
  const id = state.nextId++;
  const meta = new Map([
    ['io.modelcontextprotocol/protocolVersion', PROTOCOL],
    ['io.modelcontextprotocol/clientCapabilities', new Map()],
    ['io.modelcontextprotocol/clientInfo', new Map([['name', 'toolbox-ui'], ['version', state.info?.server?.version ?? '0']])],
  ]);
  const body = toJSON(new Map([
    ['jsonrpc', '2.0'],
    ['id', new Num(String(id))],
    ['method', method],
    ['params', new Map([...params, ['_meta', meta]])],
  ]));
  const headers = {
    'Content-Type': 'application/json',
    Accept: 'application/json, text/event-stream',
    'MCP-Protocol-Version': PROTOCOL,
    'Mcp-Method': method,
    ...extraHeaders,
  };
  if (params.has('name')) headers['Mcp-Name'] = headerValue(params.get('name'));
  const shown = { ...headers };
  const credentials = credentialHeaders();
  for (const name of Object.keys(credentials)) shown[name] = '(hidden)';
  const request = { path, headers: shown, body };
  const started = performance.now();
  try {
    const response = await fetch(path, { method: 'POST', headers: { ...headers, ...credentials }, body, cache: 'no-store' });
    const text = await response.text();
    const ms = performance.now() - started;
    let json = null;
    try {
      json = parseJSON(text);
    } catch {
      // Not JSON: shown as text.
    }
    return { status: response.status, headers: response.headers, text, json, ms, request };
  } catch (e) {
    return { status: 0, text: String(e), json: null, ms: performance.now() - started, request, networkError: true };
  }
}

// `../mcp/...` from `/mcp/...`: the page lives at `/ui/`.
const relative = (path) => `..${path}`;

// ---------------------------------------------------------------------------------------------
// Loading.

function notice(kind, ...content) {
  const box = clear($('#notice'));
  if (content.length) box.append(h('div', { class: `box ${kind}` }, ...content));
}

async function load() {
  notice('info');
  let response;
  try {
    response = await fetch('tools.json', { headers: credentialHeaders(), cache: 'no-store' });
  } catch (e) {
    notice('error', `Cannot reach the server: ${e}`);
    return;
  }
  if (!response.ok) {
    let message = '';
    try {
      message = (await response.json()).error?.message ?? '';
    } catch {
      // No JSON body.
    }
    const hint = response.status === 401
      ? 'This server uses MCP authorization: put a bearer token under Credentials and press Reload tools.'
      : '';
    $('#credentials').open = true;
    notice('error', h('strong', {}, `tools.json: HTTP ${response.status}. `), message, ' ', hint);
    $('#empty').textContent = '';
    return;
  }
  state.info = await response.json();
  state.defs = new Map(state.info.tools.map((t) => [t.name, t]));
  const list = await rpc(relative('/mcp'), 'tools/list', new Map());
  const result = list.status === 200 && list.json instanceof Map ? list.json.get('result') : null;
  if (!result) {
    notice('error', h('strong', {}, `tools/list: HTTP ${list.status}. `), errorMessage(list));
    return;
  }
  // The schemas are read as plain objects: their key order is not needed (parameters and
  // columns come in order from tools.json).
  state.listed = new Map(JSON.parse(list.text).result.tools.map((t) => [t.name, t]));
  renderHeader();
  renderToolsets();
  renderTokens();
  renderList();
  const wanted = decodeURIComponent(location.hash.slice(1));
  if (state.defs.has(wanted)) select(wanted);
  else if (!state.current) $('#empty').textContent = 'Choose a tool.';
}

function errorMessage(answer) {
  if (answer.json instanceof Map && answer.json.get('error') instanceof Map) {
    const error = answer.json.get('error');
    return `${error.get('message')} (JSON-RPC error ${toJSON(error.get('code'))})`;
  }
  return answer.text.slice(0, 500);
}

function renderHeader() {
  const { server } = state.info;
  $('#server').textContent = server.name === 'toolbox' ? `v${server.version}` : `${server.name} ${server.version}`;
}

function renderToolsets() {
  const select = clear($('#toolset'));
  state.info.toolsets.forEach((t, i) => {
    const label = t.name === '' ? `all tools (${t.tools.length})` : `${t.name} (${t.tools.length})`;
    select.append(h('option', { value: i }, label));
  });
  select.value = String(state.toolset);
  showToolset();
}

function showToolset() {
  const toolset = state.info.toolsets[state.toolset];
  $('#endpoint').textContent = toolset.path;
  $('#toolset-instructions').textContent = toolset.instructions ?? '';
}

function renderTokens() {
  // A bearer token matters only with MCP authorization (until tools.json answers, it may).
  $('#bearer-field').hidden = !state.info.mcpAuth && !$('#bearer').value;
  // Tokens typed before a reload are kept.
  const typed = credentialHeaders();
  const box = clear($('#service-tokens'));
  for (const s of state.info.authServices) {
    if (!s.header) continue;
    const input = h('input', { type: 'password', autocomplete: 'off', spellcheck: 'false', 'data-header': s.header, name: s.header });
    input.value = typed[s.header] ?? '';
    box.append(h('label', { class: 'field' }, h('span', {}, h('code', {}, s.header), h('span', { class: 'muted' }, ` (${s.name}, ${s.type})`)), input));
  }
}

function renderList() {
  const nav = clear($('#tool-list'));
  const toolset = state.info.toolsets[state.toolset];
  const filter = $('#filter').value.trim().toLowerCase();
  for (const name of toolset.tools) {
    const listed = state.listed.get(name);
    const description = listed?.description ?? '';
    if (filter && !name.toLowerCase().includes(filter) && !description.toLowerCase().includes(filter)) continue;
    const def = state.defs.get(name);
    const locked = def.authRequired.length || def.scopesRequired.length;
    nav.append(h('button', {
      type: 'button',
      class: name === state.current ? 'tool selected' : 'tool',
      'data-tool': name,
      onclick: () => select(name),
    }, h('span', { class: 'tool-name' }, name, locked ? h('span', { class: 'tag lock', title: 'needs authorization' }, 'auth') : null),
    h('span', { class: 'tool-desc' }, description.split('\n')[0])));
  }
}

// ---------------------------------------------------------------------------------------------
// A tool.

function select(name) {
  state.current = name;
  history.replaceState(null, '', `#${encodeURIComponent(name)}`);
  for (const b of document.querySelectorAll('#tool-list .tool')) b.classList.toggle('selected', b.dataset.tool === name);
  renderTool(state.defs.get(name), state.listed.get(name) ?? { name, inputSchema: { properties: {} } });
}

const duration = (ms) => (ms % 60000 === 0 ? `${ms / 60000}m` : ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`);

function typeText(schema) {
  if (!schema) return '';
  const types = [].concat(schema.type ?? 'any');
  let text = types.filter((t) => t !== 'null').join(' | ') || 'null';
  if (schema.items) text += ` of ${typeText(schema.items)}`;
  if (schema.additionalProperties && typeof schema.additionalProperties === 'object' && schema.additionalProperties.type) {
    text = `map of ${typeText(schema.additionalProperties)}`;
  }
  if (types.includes('null') && text !== 'null') text += ' | null';
  return text;
}

function renderTool(def, listed) {
  $('#empty').hidden = true;
  const article = clear($('#tool'));
  article.hidden = false;
  const annotations = listed.annotations ?? {};
  const title = listed.title ?? annotations.title;
  const tags = [h('span', { class: 'tag' }, `${def.engine} · ${def.source}`)];
  for (const [key, value] of Object.entries(annotations)) {
    if (key === 'title') continue;
    const tone = (key === 'readOnlyHint' && value) ? 'good' : (key === 'destructiveHint' && value) ? 'bad' : '';
    tags.push(h('span', { class: `tag ${tone}` }, value === true ? key : `${key}: ${JSON.stringify(value)}`));
  }
  if (def.queryTimeoutMs) tags.push(h('span', { class: 'tag' }, `timeout ${duration(def.queryTimeoutMs)}`));
  if (def.rateLimit) {
    const { calls, periodMs } = def.rateLimit;
    const per = { 1000: 's', 60000: 'm', 3600000: 'h' }[periodMs] ?? duration(periodMs);
    tags.push(h('span', { class: 'tag' }, `rate ${calls}/${per}`));
  }
  article.append(
    h('h2', {}, def.name, title ? h('span', { class: 'title' }, ` ${title}`) : null),
    h('p', { class: 'description' }, listed.description ?? ''),
    h('div', { class: 'tags' }, tags),
    authSection(def),
  );
  const form = buildForm(def, listed);
  const code = h('div', { class: 'card' }, h('h3', {}, 'SQL'), sqlSection(def, form), outputSection(def, listed, form));
  article.append(h('div', { class: 'columns' }, h('div', { class: 'card' }, h('h3', {}, 'Parameters'), form.element), code));
  article.append(h('section', { id: 'result', class: 'card', hidden: true }));
  form.onchange();
}

function authSection(def) {
  const lines = [];
  if (state.info.mcpAuth) {
    const mcp = state.info.authServices.find((s) => s.mcpEnabled);
    const scopes = mcp?.scopesRequired?.length ? `, with the scopes ${mcp.scopesRequired.join(' ')}` : '';
    lines.push(h('li', {}, `Every request needs a bearer token from ${mcp?.name ?? 'the MCP auth service'}${scopes}.`));
  }
  if (def.authRequired.length) {
    const headers = def.authRequired.map((name) => state.info.authServices.find((s) => s.name === name)?.header ?? `${name}_token`);
    lines.push(h('li', {}, 'Needs a verified token from ', def.authRequired.join(' or '), ' (header ', headers.map((x, i) => [i ? ' or ' : '', h('code', {}, x)]), ').'));
  }
  if (def.scopesRequired.length) {
    lines.push(h('li', {}, 'Needs the scopes ', def.scopesRequired.map((s, i) => [i ? ' ' : '', h('code', {}, s)]), ' on the bearer token.'));
  }
  for (const p of def.params.filter((p) => p.fromToken.length)) {
    const from = p.fromToken.map((c, i) => [i ? ' or ' : '', h('code', {}, `${c.service}.${c.claim}`)]);
    lines.push(h('li', {}, h('code', {}, p.name), ' is taken from the claim ', from, ' of the verified token.'));
  }
  if (!lines.length) return h('p', { class: 'small muted auth' }, 'No authorization needed.');
  return h('ul', { class: 'auth' }, lines);
}

// ---------------------------------------------------------------------------------------------
// The form, from the inputSchema (order and token-filled parameters from tools.json).

function buildForm(def, listed) {
  const properties = listed.inputSchema?.properties ?? {};
  const required = new Set(listed.inputSchema?.required ?? []);
  const fields = [];
  const element = h('form', { id: 'form', novalidate: true, autocomplete: 'off' });
  const form = { element, fields, onchange: () => {} };
  for (const p of def.params) {
    if (p.copiedFrom) continue;
    const schema = properties[p.name];
    if (!schema) continue;
    if (p.fromToken.length) {
      element.append(h('div', { class: 'param' },
        h('div', { class: 'label' }, h('code', {}, p.name), h('span', { class: 'type' }, typeText(schema))),
        h('p', { class: 'small muted' }, 'Filled by the server from the verified token; not sent.')));
      continue;
    }
    const field = { name: p.name, schema, required: required.has(p.name), template: p.template };
    const id = `param-${p.name}`;
    // The SQL of a client-SQL tool gets room for more than one line.
    field.control = def.clientSql && p.name === 'sql'
      ? h('textarea', { id, name: p.name, rows: 4, spellcheck: 'false', placeholder: 'SELECT …' })
      : control(field, id);
    const hints = [];
    if (schema.default !== undefined) hints.push(`default ${JSON.stringify(schema.default)}`);
    if (schema.minimum !== undefined) hints.push(`min ${schema.minimum}`);
    if (schema.maximum !== undefined) hints.push(`max ${schema.maximum}`);
    if (schema['x-mcp-header']) hints.push(['also sent as ', h('code', { class: 'nowrap' }, `Mcp-Param-${schema['x-mcp-header']}`)]);
    if (p.template) hints.push('chooses the statement');
    field.error = h('span', { class: 'field-error' });
    element.append(h('div', { class: 'param' },
      h('label', { class: 'label', for: id }, h('code', {}, p.name),
        h('span', { class: 'type' }, typeText(schema)),
        field.required ? h('span', { class: 'required', title: 'required' }, 'required') : null),
      field.control,
      schema.description || hints.length
        ? h('p', { class: 'small' }, schema.description ?? '',
          hints.length ? h('span', { class: 'muted' }, hints.map((hint, i) => [i || schema.description ? ' · ' : '', hint])) : null)
        : null,
      field.error));
    fields.push(field);
  }
  if (!fields.length) element.append(h('p', { class: 'muted small' }, 'No parameters.'));
  const run = h('button', { type: 'submit', id: 'run', class: 'primary' }, 'Run');
  element.append(h('div', { class: 'actions' }, run, h('span', { class: 'small muted' }, `POST ${state.info.toolsets[state.toolset].path}`)));
  element.addEventListener('submit', (event) => {
    event.preventDefault();
    runTool(def, form);
  });
  element.addEventListener('input', () => form.onchange());
  element.addEventListener('change', () => form.onchange());
  return form;
}

function control(field, id) {
  const { schema } = field;
  const type = [].concat(schema.type)[0];
  if (Array.isArray(schema.enum)) {
    field.values = schema.enum.map(exact);
    const placeholder = field.required ? '(choose)' : schema.default !== undefined ? `(default: ${JSON.stringify(schema.default)})` : '(not set)';
    return h('select', { id, name: field.name }, h('option', { value: '' }, placeholder),
      schema.enum.map((v, i) => h('option', { value: i }, typeof v === 'string' ? v : JSON.stringify(v))));
  }
  if (type === 'boolean') {
    field.values = [true, false];
    const placeholder = schema.default !== undefined ? `(default: ${schema.default})` : '(not set)';
    return h('select', { id, name: field.name }, h('option', { value: '' }, placeholder), h('option', { value: 0 }, 'true'), h('option', { value: 1 }, 'false'));
  }
  if (type === 'integer' || type === 'number') {
    return h('input', {
      id, name: field.name, type: 'number', step: type === 'integer' ? '1' : 'any',
      min: schema.minimum, max: schema.maximum,
      placeholder: schema.default !== undefined ? String(schema.default) : '',
    });
  }
  if (type === 'array' || type === 'object') {
    const example = type === 'array' ? `[${exampleOf(schema.items)}, ${exampleOf(schema.items)}]` : `{"key": ${exampleOf(schema.additionalProperties)}}`;
    return h('textarea', { id, name: field.name, rows: 3, spellcheck: 'false', placeholder: `JSON, e.g. ${example}` });
  }
  return h('input', { id, name: field.name, type: 'text', spellcheck: 'false', placeholder: schema.default !== undefined ? String(schema.default) : '' });
}

function exampleOf(schema) {
  switch ([].concat(schema?.type)[0]) {
    case 'integer': return '1';
    case 'number': return '1.5';
    case 'boolean': return 'true';
    case 'string': return '"text"';
    case 'array': return '[]';
    default: return '{}';
  }
}

// The arguments the form holds, in exact JSON values; fields left empty are left out.
function collect(form) {
  const args = new Map();
  let ok = true;
  for (const field of form.fields) {
    field.error.textContent = '';
    const raw = field.control.value;
    if (raw === '') continue;
    const type = [].concat(field.schema.type)[0];
    if (field.values) {
      args.set(field.name, field.values[Number(raw)]);
    } else if (type === 'integer' || type === 'number') {
      const text = raw.trim();
      if (NUMBER_TEXT.test(text)) args.set(field.name, new Num(text));
      else {
        field.error.textContent = 'not a number';
        ok = false;
      }
    } else if (type === 'array' || type === 'object') {
      try {
        args.set(field.name, parseJSON(raw));
      } catch (e) {
        field.error.textContent = `not JSON: ${e.message}`;
        ok = false;
      }
    } else {
      args.set(field.name, raw);
    }
  }
  return ok ? args : null;
}

// ---------------------------------------------------------------------------------------------
// The SQL and the output columns.

const KEYWORDS = new Set(('select from where and or not in is null as on join left right inner outer full cross group by order ' +
  'having limit offset insert into values update set delete returning with union all distinct case when then else end ' +
  'exists between like asc desc count avg sum min max coalesce cast create table drop alter').split(' '));

// SQL as text spans: keywords, strings and placeholders marked by class.
function highlight(sql) {
  const out = [];
  const re = /('(?:[^']|'')*')|("(?:[^"]|"")*")|(\?\d*|\$\d+|:\w+)|([A-Za-z_][A-Za-z0-9_]*)|(--[^\n]*)|([\s\S])/g;
  let m;
  let plain = '';
  const flush = () => {
    if (plain) out.push(plain);
    plain = '';
  };
  while ((m = re.exec(sql))) {
    const [text, string, quoted, placeholder, word, comment] = m;
    let cls = null;
    if (string) cls = 'str';
    else if (placeholder) cls = 'ph';
    else if (comment) cls = 'com';
    else if (word && KEYWORDS.has(word.toLowerCase())) cls = 'kw';
    else if (quoted) cls = 'id';
    if (cls) {
      flush();
      out.push(h('span', { class: cls }, text));
    } else plain += text;
  }
  flush();
  return out;
}

// The template values the form chooses, or the defaults.
function templateChoice(form, def) {
  const choice = {};
  for (const p of def.params.filter((p) => p.template)) {
    const field = form.fields.find((f) => f.name === p.name);
    const value = field && field.control.value !== '' ? field.values[Number(field.control.value)] : exact(field?.schema.default);
    choice[p.name] = value === undefined ? undefined : toJSON(value);
  }
  return choice;
}

// The index of the statement these template values choose, or -1.
function variantOf(def, choice) {
  return def.statements.findIndex((s) =>
    Object.entries(s.template).every(([k, v]) => choice[k] !== undefined && toJSON(exact(v)) === choice[k]));
}

function sqlSection(def, form) {
  if (def.clientSql) {
    return h('p', { class: 'small' }, 'Runs the SQL its caller sends in ', h('code', {}, 'sql'),
      `, on a connection of its own, against ${def.source} (${def.engine}).`);
  }
  const box = h('div', { class: 'statements' });
  def.statements.forEach((s, i) => {
    const label = Object.entries(s.template).map(([k, v]) => `${k} = ${typeof v === 'string' ? v : JSON.stringify(v)}`).join(', ');
    box.append(h('div', { class: 'statement', 'data-variant': i },
      label ? h('div', { class: 'variant' }, label) : null,
      h('pre', { class: 'sql' }, highlight(s.sql.trim()))));
  });
  const note = def.statements.length > 1
    ? h('p', { class: 'small muted' }, `${def.statements.length} statements, one per template value, each prepared at build time; the one the form chooses is marked.`)
    : h('p', { class: 'small muted' }, 'Prepared against the schema at build time; arguments are bound, never spliced.');
  const previous = form.onchange;
  form.onchange = () => {
    previous();
    const current = variantOf(def, templateChoice(form, def));
    for (const el of box.children) el.classList.toggle('current', def.statements.length > 1 && Number(el.dataset.variant) === current);
  };
  return [box, note];
}

function outputSection(def, listed, form) {
  const section = h('div', { class: 'output' });
  const properties = listed.outputSchema?.properties?.rows?.items?.properties;
  const render = () => {
    clear(section);
    if (def.clientSql) return;
    const variant = def.statements[Math.max(0, variantOf(def, templateChoice(form, def)))];
    if (!variant) return;
    if (!variant.columns.length) {
      section.append(h('h3', {}, 'Output'), h('p', { class: 'small muted' }, 'No rows: the statement reports the number of rows it changed.'));
      return;
    }
    // SQLite gives an expression no declared type (the build writes NULL).
    const declared = (c) => (def.engine === 'sqlite' && c.type === 'NULL' ? '(expression)' : c.type || '—');
    const rows = variant.columns.map((c) => h('tr', {}, h('td', {}, h('code', {}, c.name)),
      h('td', {}, typeText(properties?.[c.name])), h('td', { class: 'muted' }, declared(c))));
    section.append(h('h3', {}, 'Output columns'),
      h('table', { class: 'columns-table' }, h('thead', {}, h('tr', {}, h('th', {}, 'column'), h('th', {}, 'JSON'), h('th', {}, 'database'))), h('tbody', {}, rows)));
  };
  const previous = form.onchange;
  form.onchange = () => {
    previous();
    render();
  };
  return section;
}

// ---------------------------------------------------------------------------------------------
// Running a tool and showing its answer.

async function runTool(def, form) {
  const args = collect(form);
  const result = $('#result');
  if (!args) return;
  const choice = templateChoice(form, def);
  const variant = def.clientSql ? null : def.statements[variantOf(def, choice)] ?? null;
  const headers = {};
  for (const { param, header } of def.headerParams) {
    if (!args.has(param)) continue;
    const value = args.get(param);
    const text = typeof value === 'string' ? value : value instanceof Num ? String(Number(value.text)) : toJSON(value);
    headers[`Mcp-Param-${header}`] = headerValue(text);
  }
  const toolset = state.info.toolsets[state.toolset];
  result.hidden = false;
  clear(result).append(h('p', { class: 'muted' }, 'Running…'));
  const run = $('#run');
  run.disabled = true;
  const answer = await rpc(relative(toolset.path), 'tools/call', new Map([['name', def.name], ['arguments', args]]), headers);
  run.disabled = false;
  renderAnswer(result, answer, variant);
  result.scrollIntoView({ block: 'nearest' });
}

function renderAnswer(box, answer, variant) {
  clear(box);
  const ms = `${answer.ms.toFixed(answer.ms < 10 ? 1 : 0)} ms`;
  const json = answer.json instanceof Map ? answer.json : null;
  const error = json?.get('error');
  const result = json?.get('result');
  const head = h('div', { class: 'result-head' });
  box.append(head);
  if (answer.networkError) {
    head.append(h('span', { class: 'status bad' }, 'no answer'), h('span', { class: 'muted' }, ms));
    box.append(h('div', { class: 'box error' }, answer.text));
  } else if (error instanceof Map || !(result instanceof Map)) {
    head.append(h('span', { class: 'status bad', id: 'result-status' }, `refused · HTTP ${answer.status}`), h('span', { class: 'muted', id: 'result-time' }, ms));
    const lines = [h('strong', {}, error instanceof Map ? `JSON-RPC error ${toJSON(error.get('code'))}: ` : 'Not a JSON-RPC answer: '),
      error instanceof Map ? String(error.get('message')) : answer.text.slice(0, 2000)];
    const challenge = answer.headers?.get('www-authenticate');
    if (challenge) lines.push(h('div', { class: 'small' }, 'WWW-Authenticate: ', h('code', {}, challenge)));
    box.append(h('div', { class: 'box error', id: 'result-error' }, lines));
  } else if (result.get('isError') === true) {
    head.append(h('span', { class: 'status bad', id: 'result-status' }, 'isError · the tool answered an error'), h('span', { class: 'muted', id: 'result-time' }, ms));
    const texts = (result.get('content') ?? []).map((c) => (c instanceof Map ? c.get('text') : '')).filter(Boolean);
    box.append(h('div', { class: 'box error', id: 'result-error' }, texts.join('\n')));
  } else {
    const structured = result.get('structuredContent');
    const rows = structured instanceof Map ? structured.get('rows') : undefined;
    if (Array.isArray(rows)) {
      const count = `${rows.length} row${rows.length === 1 ? '' : 's'}`;
      head.append(h('span', { class: 'status good', id: 'result-status' }, count), h('span', { class: 'muted', id: 'result-time' }, ms));
      if (structured.get('truncated') === true) {
        box.append(h('div', { class: 'box warn', id: 'result-truncated' },
          'Truncated: more rows matched than are shown (the tool\'s maxRows or the response size limit).'));
      }
      box.append(rowsTable(rows, variant?.columns?.map((c) => c.name)));
    } else {
      const affected = structured instanceof Map ? structured.get('rowsAffected') : undefined;
      head.append(h('span', { class: 'status good', id: 'result-status' },
        affected !== undefined ? `${toJSON(affected)} rows affected` : 'done'), h('span', { class: 'muted', id: 'result-time' }, ms));
    }
  }
  const raw = json ? pretty(json) : answer.text;
  box.append(
    h('details', { class: 'raw' }, h('summary', {}, `JSON-RPC answer (HTTP ${answer.status})`), h('pre', { id: 'result-raw' }, raw)),
    h('details', { class: 'raw' }, h('summary', {}, 'Request sent'),
      h('pre', {}, `POST ${new URL(answer.request.path, location.href).pathname}\n`,
        Object.entries(answer.request.headers).map(([k, v]) => `${k}: ${v}\n`), '\n', pretty(parseJSON(answer.request.body)))),
  );
}

function rowsTable(rows, described) {
  const columns = [...(described ?? [])];
  for (const row of rows) {
    if (!(row instanceof Map)) continue;
    for (const key of row.keys()) if (!columns.includes(key)) columns.push(key);
  }
  const body = rows.map((row) => h('tr', {}, columns.map((c) => cell(row instanceof Map ? row.get(c) : undefined))));
  // A column of numbers is aligned right, its heading too.
  const numeric = (c) => rows.some((r) => r instanceof Map && r.get(c) instanceof Num)
    && rows.every((r) => !(r instanceof Map) || r.get(c) === null || r.get(c) === undefined || r.get(c) instanceof Num);
  return h('div', { class: 'table-wrap' }, h('table', { id: 'result-table', class: 'rows' },
    h('thead', {}, h('tr', {}, columns.map((c) => h('th', { class: numeric(c) ? 'num' : null }, c)))), h('tbody', {}, body)));
}

// Text cells longer than this are folded.
const LONG = 120;

function cell(v) {
  if (v === undefined) return h('td', { class: 'missing' }, '');
  if (v === null) return h('td', { class: 'null' }, 'NULL');
  if (v instanceof Num) return h('td', { class: 'num' }, v.text);
  if (typeof v === 'boolean') return h('td', { class: 'bool' }, String(v));
  // Long text and JSON values open on a click.
  if (typeof v === 'string') {
    if (v.length <= LONG && !v.includes('\n')) return h('td', {}, v);
    return h('td', { class: 'long' }, h('details', {}, h('summary', {}, `${v.slice(0, 60).split('\n')[0]}… (${v.length} characters)`), h('pre', {}, v)));
  }
  const size = Array.isArray(v) ? `[${v.length}]` : `{${v.size}}`;
  const preview = toJSON(v);
  return h('td', { class: 'json' }, h('details', {},
    h('summary', {}, preview.length > 40 ? `${size} ${preview.slice(0, 40)}…` : preview), h('pre', {}, pretty(v))));
}

// ---------------------------------------------------------------------------------------------

document.addEventListener('DOMContentLoaded', () => {
  $('#toolset').addEventListener('change', (event) => {
    state.toolset = Number(event.target.value);
    showToolset();
    renderList();
    const toolset = state.info.toolsets[state.toolset];
    if (state.current && toolset.tools.includes(state.current)) select(state.current);
    else {
      state.current = null;
      $('#tool').hidden = true;
      $('#empty').hidden = false;
      $('#empty').textContent = 'Choose a tool.';
    }
  });
  $('#filter').addEventListener('input', renderList);
  $('#credentials-form').addEventListener('submit', (event) => {
    event.preventDefault();
    load();
  });
  load();
});
