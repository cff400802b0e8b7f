// panva's oidc-provider as the authorization server of the end-to-end authorization tests.
//
//   node tests/peers/oidc_provider.mjs --port 4000 --keys /tmp/keys.json [--rotate]
//
// Issues access tokens by the client-credentials grant for any resource indicator (RFC 8707),
// with the scopes mcp:access, bookings:read and bookings:write:
//   agent-jwt / agent-jwt-secret       JWT access tokens (RS256), 10 minutes
//   agent-opaque / agent-opaque-secret opaque access tokens, 10 minutes
//   agent-short / agent-short-secret   JWT access tokens that live 2 seconds
//   toolbox-rs / toolbox-rs-secret     the resource server's own client, for introspection
// Signing keys are kept in --keys (made on the first start); --rotate puts a new key first, so
// that new tokens carry a new kid while the old key stays published. Prints `READY <issuer>`.
// Loaded from .ci/peers/oidc-provider (tests/peers/install_oidc_provider.sh), or OIDC_PROVIDER_DIR.
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const args = process.argv.slice(2);
const option = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const port = Number(option('--port'));
const keysFile = option('--keys');
if (!port || !keysFile) {
  console.error('usage: oidc_provider.mjs --port PORT --keys FILE [--rotate]');
  process.exit(2);
}

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const dir = process.env.OIDC_PROVIDER_DIR ?? join(root, '.ci', 'peers', 'oidc-provider');
const { default: Provider } = await import(pathToFileURL(join(dir, 'node_modules', 'oidc-provider', 'lib', 'index.js')));

const newKey = () => {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { ...privateKey.export({ format: 'jwk' }), kid: randomUUID(), alg: 'RS256', use: 'sig' };
};
let keys = existsSync(keysFile) ? JSON.parse(readFileSync(keysFile, 'utf8')) : [newKey()];
if (args.includes('--rotate')) keys = [newKey(), ...keys];
writeFileSync(keysFile, JSON.stringify(keys));

const SCOPES = 'mcp:access bookings:read bookings:write';
const client = (id) => ({
  client_id: id,
  client_secret: `${id}-secret`,
  grant_types: ['client_credentials'],
  redirect_uris: [],
  response_types: [],
  token_endpoint_auth_method: 'client_secret_basic',
  scope: SCOPES,
});
const issuer = `http://127.0.0.1:${port}`;
const provider = new Provider(issuer, {
  clients: [
    client('agent-jwt'),
    client('agent-opaque'),
    client('agent-short'),
    { ...client('toolbox-rs'), grant_types: [], scope: undefined },
  ],
  jwks: { keys },
  ttl: { ClientCredentials: (ctx, token) => token.resourceServer?.accessTokenTTL ?? 600 },
  scopes: SCOPES.split(' '),
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    // Only the resource server's client, or the token's own client, may introspect.
    introspection: {
      enabled: true,
      allowedPolicy: async (ctx, c, token) => c.clientId === 'toolbox-rs' || c.clientId === token.clientId,
    },
    revocation: { enabled: true },
    resourceIndicators: {
      enabled: true,
      useGrantedResource: () => true,
      getResourceServerInfo: (ctx, resourceIndicator, c) => ({
        scope: SCOPES,
        audience: resourceIndicator,
        accessTokenTTL: c.clientId === 'agent-short' ? 2 : 600,
        accessTokenFormat: c.clientId === 'agent-opaque' ? 'opaque' : 'jwt',
        jwt: { sign: { alg: 'RS256' } },
      }),
    },
  },
});
provider.listen(port, '127.0.0.1', () => {
  console.log(`READY ${issuer}`);
});
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => process.exit(0));
