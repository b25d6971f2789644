// A real OpenID provider for cxgov's sign-in tests: oidc-provider (npm) on 127.0.0.1.
//
// Environment: OIDC_PORT, OIDC_CLIENT_ID, OIDC_CLIENT_SECRET, OIDC_REDIRECT_URI, and
// OIDC_ACCOUNTS, a JSON file {accountId: {email, email_verified, given_name, family_name,
// groups}} read at every sign-in, so a test changes a person's groups between two
// sign-ins by rewriting it. The development login page accepts the account id as login.
// Prints "ready <issuer>" once listening.
import { readFileSync } from 'node:fs';

import Provider from 'oidc-provider';

const port = Number(process.env.OIDC_PORT);
const issuer = `http://127.0.0.1:${port}`;

const provider = new Provider(issuer, {
  clients: [{
    client_id: process.env.OIDC_CLIENT_ID,
    client_secret: process.env.OIDC_CLIENT_SECRET,
    redirect_uris: [process.env.OIDC_REDIRECT_URI],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_post',
  }],
  scopes: ['openid', 'email', 'profile', 'groups'],
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['given_name', 'family_name', 'name'],
    groups: ['groups'],
  },
  // The relying party must use PKCE, as cxgov does.
  pkce: { required: () => true },
  cookies: { keys: ['cxgov-test-provider-only'] },
  features: { devInteractions: { enabled: true } },
  async findAccount(ctx, id) {
    const accounts = JSON.parse(readFileSync(process.env.OIDC_ACCOUNTS, 'utf8'));
    const account = accounts[id];
    if (!account) return undefined;
    return { accountId: id, async claims() { return { sub: id, ...account }; } };
  },
});

provider.listen(port, '127.0.0.1', () => {
  console.log(`ready ${issuer}`);
});
