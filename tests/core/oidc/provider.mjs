// A real OpenID Connect provider (node's oidc-provider) for the single sign-on tests, on
// loopback over HTTPS with a certificate the test suite minted. One static client, and
// users with a groups claim. Its development login form accepts any password for a known
// user; that is the provider's business, not the one under test.
//
// Environment: OIDC_PORT, OIDC_CERT, OIDC_KEY, OIDC_CLIENT_ID, OIDC_CLIENT_SECRET,
// OIDC_REDIRECT_URI, OIDC_USERS (JSON: {login: {email, groups, ...claims}}).
import fs from 'node:fs';
import https from 'node:https';

import Provider from 'oidc-provider';

const port = Number(process.env.OIDC_PORT);
const issuer = `https://127.0.0.1:${port}`;
const users = JSON.parse(process.env.OIDC_USERS);

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: process.env.OIDC_CLIENT_ID,
      client_secret: process.env.OIDC_CLIENT_SECRET,
      redirect_uris: [process.env.OIDC_REDIRECT_URI],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_post',
    },
  ],
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['preferred_username', 'name'],
    groups: ['groups'],
  },
  scopes: ['openid', 'email', 'profile', 'groups'],
  pkce: { required: () => true },
  async findAccount(ctx, id) {
    const user = users[id];
    if (!user) return undefined;
    return {
      accountId: id,
      async claims() {
        return { sub: id, preferred_username: id, email_verified: true, ...user };
      },
    };
  },
});
provider.proxy = false;

const server = https.createServer(
  { cert: fs.readFileSync(process.env.OIDC_CERT), key: fs.readFileSync(process.env.OIDC_KEY) },
  provider.callback(),
);
server.listen(port, '127.0.0.1', () => {
  process.stdout.write(`listening ${issuer}\n`);
});
