"""A local OpenID Connect issuer for the tests of federated credentials (contract §10): discovery and JWKS on a
DocumentServer, and workload tokens with the claims GitHub Actions gives a job's OIDC token."""

import json
import time
import uuid
from urllib.parse import parse_qs, urlsplit

from cryptography.hazmat.primitives.asymmetric import ec, rsa

from applications.keys import public_jwk
from applications.tests.key_helpers import private_key, sign
from testing.documents import Document, DocumentServer

DISCOVERY_PATH = "/.well-known/openid-configuration"
JWKS_PATH = "/.well-known/jwks"
REPOSITORY = "octo-org/octo-repo"
SUBJECT = f"repo:{REPOSITORY}:ref:refs/heads/main"
# ACTIONS_ID_TOKEN_REQUEST_TOKEN of the stand-in: what a job's runner is given to ask for its token.
REQUEST_TOKEN = "runner-request-token"


class LocalIssuer:
    """An issuer at http://127.0.0.1:<port> (listed in FEDERATION_INSECURE_ISSUERS by the `issuer` fixture) that
    signs with its newest key, publishes every key it holds, and counts what is fetched."""

    def __init__(self, server: DocumentServer, kind: str = "RS256"):
        self.server = server
        self.url = server.url("")
        self.signing: list[tuple[str, object]] = []  # (kid, private key), newest last
        self.rotate(kind)

    def rotate(self, kind: str = "RS256", *, keep_old: bool = True) -> str:
        """A new signing key, published (with the old ones unless `keep_old` is False); its kid."""
        kid = uuid.uuid4().hex[:16]
        self.signing = [*(self.signing if keep_old else []), (kid, private_key(kind))]
        self.publish()
        return kid

    def jwks(self) -> dict:
        return {
            "keys": [
                {**public_jwk(private.public_key()), "kid": kid, "use": "sig", "alg": _alg(private)}
                for kid, private in self.signing
            ]
        }

    def publish(self) -> None:
        self.server.publish(
            DISCOVERY_PATH,
            {
                "issuer": self.url,
                "jwks_uri": self.url + JWKS_PATH,
                "subject_types_supported": ["public", "pairwise"],
                "response_types_supported": ["id_token"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "claims_supported": ["sub", "aud", "exp", "iat", "iss", "jti", "nbf", "ref", "repository"],
                "scopes_supported": ["openid"],
            },
        )
        self.server.publish(JWKS_PATH, self.jwks())

    def claims(self, audience: str, *, now: float | None = None, **overrides) -> dict:
        """A GitHub Actions job's OIDC token claims for a push to main, valid for five minutes."""
        now = int(time.time() if now is None else now)
        claims = {
            "jti": str(uuid.uuid4()),
            "sub": SUBJECT,
            "aud": audience,
            "ref": "refs/heads/main",
            "sha": "4b825dc642cb6eb9a060e54bf8d69288fbee4904",
            "repository": REPOSITORY,
            "repository_owner": REPOSITORY.split("/")[0],
            "repository_visibility": "private",
            "run_id": "6548294041",
            "run_attempt": "1",
            "actor": "octocat",
            "workflow": "CI",
            "event_name": "push",
            "ref_type": "branch",
            "job_workflow_ref": f"{REPOSITORY}/.github/workflows/ci.yml@refs/heads/main",
            "iss": self.url,
            "nbf": now - 5,
            "exp": now + 300,
            "iat": now,
        }
        claims.update(overrides)
        return {name: value for name, value in claims.items() if value is not None}

    def token(self, audience: str, *, kid: str | None = None, alg: str | None = None, **claims) -> str:
        """A workload token signed with the newest key (header kid unless `kid=""`), claims as `claims()` makes."""
        signing_kid, private = self.signing[-1]
        kid = signing_kid if kid is None else kid
        return sign(private, self.claims(audience, **claims), kid=kid or None, alg=alg)

    def fetches(self, path: str = JWKS_PATH) -> int:
        return self.server.count(path)

    def serve_job_tokens(self, path: str = "/_apis/token") -> str:
        """Stand in for ACTIONS_ID_TOKEN_REQUEST_URL: with `Authorization: bearer <REQUEST_TOKEN>`, answers
        `{"value": <a job's token for the audience asked>}` as GitHub's does; returns the URL a job is given."""

        def job_token(request) -> Document:
            if request.headers.get("Authorization", "").lower() != f"bearer {REQUEST_TOKEN}":
                return Document(401, b'{"message": "Unauthorized"}')
            audience = parse_qs(urlsplit(request.path).query).get("audience", [None])[-1]
            value = self.token(audience) if audience else self.token(f"https://github.com/{REPOSITORY.split('/')[0]}")
            return Document(200, json.dumps({"count": 1, "value": value}).encode())

        self.server.answer(path, job_token)
        # GitHub's URL carries a query already: the job appends &audience=….
        return self.server.url(path) + "?api-version=2.0"


def _alg(private) -> str:
    if isinstance(private, rsa.RSAPrivateKey):
        return "RS256"
    return "ES256" if isinstance(private, ec.EllipticCurvePrivateKey) else "EdDSA"
