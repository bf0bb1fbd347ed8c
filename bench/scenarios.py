"""The scenarios (A to D, C2, S, I, B-net and C-net): what each requests, from which server, and the check that it
answers before the rounds."""

import re
from dataclasses import dataclass
from urllib.parse import quote

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
    status, content = request(
        scenario.server.base + scenario.path,
        method=scenario.method,
        body=scenario.body.encode() if scenario.body else None,
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


def build_scenarios(
    args, main: Server, small: Server | None, sync: Server | None, seeded: dict[str, dict]
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
    order = ["A", "A2", "S", "B", "B-net", "I", "C", "C-net", "C2", "D"]
    return sorted(wanted, key=lambda s: (order.index(s.family), s.key != s.family, s.key))
