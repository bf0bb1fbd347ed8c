"""Scenario F's OpenID Connect issuer: a local stand-in for GitHub Actions' (its discovery document and JWKS on
127.0.0.1, every fetch counted), and the workload tokens it signs in bulk before the rounds, each with a jti of its
own, as a job's OIDC token has."""

import base64
import json
import time
import uuid
from collections.abc import Iterator
from urllib.parse import urlencode

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from testing.documents import DocumentServer

DISCOVERY_PATH = "/.well-known/openid-configuration"
JWKS_PATH = "/.well-known/jwks"
REPOSITORY = "bench-org/bench-repo"
SUBJECT = f"repo:{REPOSITORY}:ref:refs/heads/main"
# The federated credential's audience: any string the workload asks its platform for.
AUDIENCE = "https://portal.bench.example"
JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
KID = "bench-key-1"


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _part(value) -> str:
    return _b64(json.dumps(value, separators=(",", ":")).encode())


class BenchIssuer:
    """Publishes one RS256 key, as GitHub's issuer does; `fetches()` counts what servers asked of it."""

    def __init__(self):
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.server = DocumentServer().start()
        self.url = self.server.url("")
        numbers = self.key.public_key().public_numbers()
        jwk = {
            "kty": "RSA",
            "n": _b64(numbers.n.to_bytes((numbers.n.bit_length() + 7) // 8)),
            "e": _b64(numbers.e.to_bytes(3)),
            "kid": KID,
            "use": "sig",
            "alg": "RS256",
        }
        self.server.publish(DISCOVERY_PATH, {"issuer": self.url, "jwks_uri": self.url + JWKS_PATH})
        self.server.publish(JWKS_PATH, {"keys": [jwk]})

    def fetches(self) -> int:
        return self.server.count(DISCOVERY_PATH) + self.server.count(JWKS_PATH)

    def grant_bodies(self, client_id: str, count: int) -> Iterator[str]:
        """`count` grant bodies, each a job's token of its own jti traded by client_id; valid for 55 minutes."""
        header = _part({"typ": "JWT", "alg": "RS256", "kid": KID})
        now = int(time.time())
        claims = {
            "sub": SUBJECT,
            "aud": AUDIENCE,
            "ref": "refs/heads/main",
            "repository": REPOSITORY,
            "repository_owner": REPOSITORY.split("/")[0],
            "run_id": "1",
            "workflow": "Bench",
            "event_name": "push",
            "iss": self.url,
            "nbf": now - 5,
            "iat": now,
            "exp": now + 3300,
        }
        for _ in range(count):
            signing_input = f"{header}.{_part({'jti': str(uuid.uuid4()), **claims})}"
            signature = self.key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
            yield urlencode(
                {
                    "grant_type": "client_credentials",
                    "client_id": client_id,
                    "client_assertion_type": JWT_BEARER,
                    "client_assertion": f"{signing_input}.{_b64(signature)}",
                }
            )

    def close(self) -> None:
        self.server.close()
