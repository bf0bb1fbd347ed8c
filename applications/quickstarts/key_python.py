# pip install Authlib requests    then: PRIVATE_KEY_FILE=your-key.pem python quickstart_key.py
# (with CLIENT_ID and TOKEN_ENDPOINT set: set -a; . ./your.env; set +a; on plain http://, AUTHLIB_INSECURE_TRANSPORT=1)
import json
import os

from authlib.integrations.requests_client import OAuth2Session
from authlib.oauth2.rfc7523 import PrivateKeyJWT
from joserfc.jwk import ECKey

with open(os.environ["PRIVATE_KEY_FILE"]) as pem:
    private_key = ECKey.import_key(pem.read())  # RSAKey or OKPKey (alg "RS256", "EdDSA") for other keys

token_endpoint = os.environ["TOKEN_ENDPOINT"]
session = OAuth2Session(
    os.environ["CLIENT_ID"],
    private_key,
    # A fresh assertion for each request: signed by the private key, which never leaves this machine.
    token_endpoint_auth_method=PrivateKeyJWT(token_endpoint, alg="ES256"),
)
token = session.fetch_token(token_endpoint, grant_type="client_credentials")
print(json.dumps({"token_type": token["token_type"], "expires_in": token["expires_in"], "scope": token["scope"]}))
