// Node 18 or newer, no packages: PRIVATE_KEY_FILE=your-key.pem node quickstart-key.mjs
// (with CLIENT_ID and TOKEN_ENDPOINT set: set -a; . ./your.env; set +a)
import { createPrivateKey, randomUUID, sign } from "node:crypto";
import { readFileSync } from "node:fs";

const { CLIENT_ID, TOKEN_ENDPOINT, PRIVATE_KEY_FILE } = process.env;
const privateKey = createPrivateKey(readFileSync(PRIVATE_KEY_FILE));
const part = (value) => Buffer.from(JSON.stringify(value)).toString("base64url");

// A client assertion (RFC 7523), valid for 5 minutes and used once: ES256 over header.claims.
const now = Math.floor(Date.now() / 1000);
const claims = { iss: CLIENT_ID, sub: CLIENT_ID, aud: TOKEN_ENDPOINT, iat: now, exp: now + 300, jti: randomUUID() };
const signingInput = `${part({ alg: "ES256", typ: "JWT" })}.${part(claims)}`;
// JWS wants the raw 64-byte r||s signature, not DER.
const signature = sign("sha256", Buffer.from(signingInput), { key: privateKey, dsaEncoding: "ieee-p1363" });

const response = await fetch(TOKEN_ENDPOINT, {
  method: "POST",
  headers: { "Content-Type": "application/x-www-form-urlencoded" },
  body: new URLSearchParams({
    grant_type: "client_credentials",
    client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
    client_assertion: `${signingInput}.${signature.toString("base64url")}`,
  }),
});
if (!response.ok) throw new Error(`token endpoint: ${response.status} ${await response.text()}`);
const { token_type, expires_in, scope } = await response.json();
console.log(JSON.stringify({ token_type, expires_in, scope }));
