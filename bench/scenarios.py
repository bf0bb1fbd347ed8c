"""The scenarios A to D (and C2): what each requests, from which server, and the check that it answers before the rounds."""

from dataclasses import dataclass

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


def preflight(scenario: Scenario) -> None:
    headers = {"Authorization": scenario.authorization} if scenario.authorization else {}
    if scenario.body:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    status, content = request(
        scenario.server.base + scenario.path, method=scenario.method,
        body=scenario.body.encode() if scenario.body else None, headers=headers,
    )
    if not 200 <= status < 300:
        raise SystemExit(f"{scenario.key}: {scenario.method} {scenario.path} answered {status}: {content[:300]!r}")


def build_scenarios(args, main: Server, small: Server | None, seeded: dict[str, dict]) -> list[Scenario]:
    grant = "grant_type=client_credentials"
    scenarios = []
    for server in [main] + ([small] if small else []):
        seed = seeded[server.database.label]
        suffix = "" if server is main else f"@{args.small_tokens // 1000}k" if args.small_tokens >= 1000 else f"@{args.small_tokens}"
        token = get_token(server.base, seed["api_client"], "read:credentials")
        if server is main:
            scenarios += [
                Scenario("A", "plain JSON view, no auth, no DB query", server, "/bench/ping"),
                Scenario("A2", "GET /api/credentials view, auth and permission off", server, "/bench/credentials"),
            ]
        scenarios += [
            Scenario("B" + suffix, "GET /api/credentials with a bearer token", server, "/api/credentials", authorization=f"Bearer {token}"),
            Scenario(
                "C" + suffix, "POST /oauth/token, salted SHA-256 secret", server, "/oauth/token", method="POST", body=grant,
                authorization=basic(*seed["grant_client"]), issues_tokens=True,
            ),
        ]
        if server is main:
            scenarios.append(
                Scenario(
                    "C2", "POST /oauth/token, two live secrets, the newer one", server, "/oauth/token",
                    method="POST", body=grant, authorization=basic(*seed["rotated_client"]), issues_tokens=True,
                )
            )
            scenarios.append(
                Scenario(
                    "D", "POST /oauth/token, PBKDF2 secret (Django's default)", server, "/oauth/token", method="POST",
                    body=grant, authorization=basic(*seed["pbkdf2_client"]), issues_tokens=True, connections=args.workers,
                )
            )
    wanted = [s for s in scenarios if s.key.split("@")[0] in args.scenarios]
    # Each scenario beside its comparison twin, so that both see the same moment of the machine.
    return sorted(wanted, key=lambda s: (["A", "A2", "B", "C", "C2", "D"].index(s.key.split("@")[0]), "@" in s.key))
