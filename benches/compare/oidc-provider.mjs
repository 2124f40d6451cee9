// The OAuth peer: panva's oidc-provider 9.x, in memory, one Node process,
// configured for what ithbat's /oauth/token and /oauth/introspect do:
// client_credentials with client_secret_basic, access tokens for resource
// servers (RFC 8707) as RS256 JWTs (resource urn:bench:jwt) or opaque
// (urn:bench:opaque, which its introspection endpoint answers).
//
// Started by benches/compare/run from target/bench-compare/node (where npm
// installed oidc-provider); PORT, CLIENT_ID, CLIENT_SECRET from the
// environment. It exits by itself after BENCH_LIFETIME_SECONDS.

import { generateKeyPairSync } from 'node:crypto';
import Provider from 'oidc-provider';

const port = Number(process.env.PORT);
const lifetime = Number(process.env.BENCH_LIFETIME_SECONDS || 3600);
setTimeout(() => process.exit(0), lifetime * 1000).unref();

// A fresh RSA-2048 key, as ithbat generates on first start.
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const jwk = { ...privateKey.export({ format: 'jwk' }), kid: 'bench', use: 'sig', alg: 'RS256' };

const servers = {
  'urn:bench:jwt': { accessTokenFormat: 'jwt', jwt: { sign: { alg: 'RS256' } } },
  'urn:bench:opaque': { accessTokenFormat: 'opaque' },
};

const provider = new Provider(`http://127.0.0.1:${port}`, {
  clients: [{
    client_id: process.env.CLIENT_ID,
    client_secret: process.env.CLIENT_SECRET,
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  jwks: { keys: [jwk] },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    introspection: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => 'urn:bench:jwt',
      useGrantedResource: () => true,
      getResourceServerInfo: (ctx, resource) => {
        const server = servers[resource];
        if (!server) throw new Error(`unknown resource ${resource}`);
        return { scope: 'api', audience: resource, accessTokenTTL: 3600, ...server };
      },
    },
  },
});
provider.proxy = false;

provider.listen(port, '127.0.0.1', () => {
  console.log(`oidc-provider ${process.version} listening on 127.0.0.1:${port}`);
});
