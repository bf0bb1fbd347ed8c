// Node 18 or newer, no packages: node --env-file=.env quickstart.mjs (Node 20.6+),
// or on older Node: set -a; . ./.env; set +a; node quickstart.mjs
const { CLIENT_ID, CLIENT_SECRET, TOKEN_ENDPOINT, API_BASE_URL } = process.env;
const basic = Buffer.from(`${encodeURIComponent(CLIENT_ID)}:${encodeURIComponent(CLIENT_SECRET)}`).toString("base64");

const tokenResponse = await fetch(TOKEN_ENDPOINT, {
  method: "POST",
  headers: { Authorization: `Basic ${basic}`, "Content-Type": "application/x-www-form-urlencoded" },
  body: new URLSearchParams({ grant_type: "client_credentials" }),
});
if (!tokenResponse.ok) throw new Error(`token endpoint: ${tokenResponse.status} ${await tokenResponse.text()}`);
const { access_token } = await tokenResponse.json();

const response = await fetch(`${API_BASE_URL}/credentials`, { headers: { Authorization: `Bearer ${access_token}` } });
if (!response.ok) throw new Error(`API: ${response.status} ${await response.text()}`);
console.log(JSON.stringify(await response.json(), null, 2));
