"""The scenarios (A to D, C2, K, F, S, I, B-net and C-net): what each requests, from which server, and the check
that it answers before the rounds."""

import base64
import itertools
import json
import re
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from urllib.parse import quote, urlencode

from bench.common import log
from bench.servers import Server, basic, get_token, request


@dataclass
class Scenario:
    key: str
    label: str
    server: Server
    path: str
    method: str = "GET"
    body: str = ""
    authorization: str = ""
    issues_tokens: bool = False
    # None: --connections. A PBKDF2 grant takes a core for a quarter of a second, so more
    # connections than workers only queue requests that outlive the round.
    connections: int | None = None
    # Bodies each used once, in order (K: a fresh client assertion per grant), instead of `body`; and how many a
    # second of load may take at most, which is how many each round is handed.
    bodies: Iterator[str] | None = None
    bodies_per_second: int = 0
    # F: how many times the servers have fetched the issuer's keys so far, counted at the issuer.
    fetches: Callable[[], int] | None = None

    def take_bodies(self, seconds: int) -> list[str]:
        return list(itertools.islice(self.bodies, seconds * self.bodies_per_second))

    @property
    def headers(self) -> dict[str, str]:
        """The request's headers, as the preflight and the Python load generator send them (wrk.lua sets its own)."""
        headers = {"Authorization": self.authorization} if self.authorization else {}
        if self.body:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        return headers

    @property
    def family(self) -> str:
        """The scenario without its variant: "B" for B, B@1k and B-sync; B-net is a scenario of its own."""
        return re.match(r"[A-Z]\d?(-net)?", self.key).group()


def preflight(scenario: Scenario) -> None:
    body = next(scenario.bodies) if scenario.bodies is not None else scenario.body
    status, content = request(
        scenario.server.base + scenario.path,
        method=scenario.method,
        body=body.encode() if body else None,
        headers=scenario.headers,
    )
    if not 200 <= status < 300:
        raise SystemExit(f"{scenario.key}: {scenario.method} {scenario.path} answered {status}: {content[:300]!r}")


def _grants(key: str, label: str, server: Server, client: tuple[str, str], **options) -> Scenario:
    """Client credentials grants at the token endpoint, the client authenticating with HTTP Basic."""
    return Scenario(
        key,
        label,
        server,
        "/oauth/token",
        method="POST",
        body="grant_type=client_credentials",
        authorization=basic(*client),
        issues_tokens=True,
        **options,
    )


JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
# More grants a second than any scenario reaches here: each round is handed this many fresh assertions a second.
ASSERTIONS_PER_SECOND = 2_500


def signed_assertions(client_id: str, private_pem: str, audience: str, count: int) -> Iterator[str]:
    """`count` grant bodies, each with an ES256 client assertion of its own jti, signed here before the rounds so
    that the load generator only sends them. They are valid for 55 minutes: longer than any run."""
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
    from cryptography.hazmat.primitives.hashes import SHA256
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    key = load_pem_private_key(private_pem.encode(), None)

    def part(value) -> str:
        return base64.urlsafe_b64encode(json.dumps(value, separators=(",", ":")).encode()).rstrip(b"=").decode()

    header = part({"alg": "ES256", "typ": "JWT"})
    now = int(time.time())
    for _ in range(count):
        claims = {"iss": client_id, "sub": client_id, "aud": audience, "iat": now, "exp": now + 3300}
        signing_input = f"{header}.{part({**claims, 'jti': uuid.uuid4().hex})}"
        r, s = decode_dss_signature(key.sign(signing_input.encode(), ec.ECDSA(SHA256())))
        signature = base64.urlsafe_b64encode(r.to_bytes(32) + s.to_bytes(32)).rstrip(b"=").decode()
        yield urlencode(
            {
                "grant_type": "client_credentials",
                "client_assertion_type": JWT_BEARER,
                "client_assertion": f"{signing_input}.{signature}",
            }
        )


def _assertion_grants(args, server: Server, client: tuple[str, str]) -> Scenario:
    seconds = args.rounds * args.duration + args.warmup + 1
    count = seconds * ASSERTIONS_PER_SECOND
    log(f"K: signing {count:,} ES256 client assertions")
    started = time.monotonic()
    bodies = list(signed_assertions(*client, server.base + "/oauth/token", count))
    log(f"K: signed in {time.monotonic() - started:.0f} s")
    return Scenario(
        "K",
        "POST /oauth/token, ES256 client assertion (private_key_jwt)",
        server,
        "/oauth/token",
        method="POST",
        body=bodies[0],
        issues_tokens=True,
        bodies=iter(bodies),
        bodies_per_second=ASSERTIONS_PER_SECOND,
    )


# F's workload tokens are RS256, as GitHub's, and signing one takes a fraction of a millisecond: fewer a second than
# K's, still more than a grant scenario reaches here.
WORKLOAD_TOKENS_PER_SECOND = 2_000


def _federated_grants(args, server: Server, client_id: str, issuer) -> Scenario:
    count = (args.rounds * args.duration + args.warmup + 1) * WORKLOAD_TOKENS_PER_SECOND
    log(f"F: signing {count:,} RS256 workload tokens")
    started = time.monotonic()
    bodies = list(issuer.grant_bodies(client_id, count))
    log(f"F: signed in {time.monotonic() - started:.0f} s")
    return Scenario(
        "F",
        "POST /oauth/token, RS256 workload token (federated)",
        server,
        "/oauth/token",
        method="POST",
        body=bodies[0],
        issues_tokens=True,
        bodies=iter(bodies),
        bodies_per_second=WORKLOAD_TOKENS_PER_SECOND,
        fetches=issuer.fetches,
    )


def build_scenarios(
    args, main: Server, small: Server | None, sync: Server | None, seeded: dict[str, dict], issuer=None
) -> list[Scenario]:
    scenarios = []
    for server in [main] + ([small] if small else []) + ([sync] if sync else []):
        seed = seeded[server.database.label]
        if server is small:
            suffix = f"@{args.small_tokens // 1000}k" if args.small_tokens >= 1000 else f"@{args.small_tokens}"
        else:
            suffix = "-sync" if server is sync else ""
        token = get_token(server.base, seed["api_client"], "read:credentials")
        if server is main:
            scenarios += [
                Scenario("A", "plain JSON view, no auth, no DB query", server, "/bench/ping"),
                Scenario("A2", "GET /api/credentials view, auth and permission off", server, "/bench/credentials"),
                Scenario(
                    "S",
                    "empty view, stock toolkit auth + TokenHasScope",
                    server,
                    "/bench/stock",
                    authorization=f"Bearer {token}",
                ),
            ]
        on = " (gunicorn sync)" if server is sync else ""
        scenarios += [
            Scenario(
                "B" + suffix,
                f"GET /api/credentials with a bearer token{on}",
                server,
                "/api/credentials",
                authorization=f"Bearer {token}",
            ),
            _grants("C" + suffix, f"POST /oauth/token, salted SHA-256 secret{on}", server, seed["grant_client"]),
        ]
        if server is main:
            scenarios += [
                Scenario(
                    "I",
                    "POST /oauth/introspect of B's token, salted SHA-256 secret",
                    server,
                    "/oauth/introspect",
                    method="POST",
                    body=f"token={quote(token)}",
                    authorization=basic(*seed["api_client"]),
                ),
                _grants("C2", "POST /oauth/token, two live secrets, the newer one", server, seed["rotated_client"]),
                Scenario(
                    "B-net",
                    "GET /api/credentials, the application with 20 allowed networks",
                    server,
                    "/api/credentials",
                    authorization=f"Bearer {get_token(server.base, seed['api_client_net'], 'read:credentials')}",
                ),
                _grants(
                    "C-net",
                    "POST /oauth/token, the application with 20 allowed networks",
                    server,
                    seed["grant_client_net"],
                ),
                *([_assertion_grants(args, server, seed["key_client"])] if "K" in args.scenarios else []),
                *([_federated_grants(args, server, seed["federated_client"], issuer)] if issuer else []),
                _grants(
                    "D",
                    "POST /oauth/token, PBKDF2 secret (Django's default)",
                    server,
                    seed["pbkdf2_client"],
                    connections=args.workers,
                ),
            ]
    wanted = [s for s in scenarios if s.family in args.scenarios]
    # Each scenario beside its comparison twins, so that all see the same moment of the machine.
    order = ["A", "A2", "S", "B", "B-net", "I", "C", "C-net", "C2", "K", "F", "D"]
    return sorted(wanted, key=lambda s: (order.index(s.family), s.key != s.family, s.key))
