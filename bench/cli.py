"""`make bench`: load the token endpoint and the scoped API over 127.0.0.1 and write bench/RESULTS.md.

One run fills two fresh databases through bench/seed.py (the real services for the
organization and its applications, bulk inserts for filler rows): the main one with --tokens
stored access tokens, the comparison one with --small-tokens. Both are SQLite files in
bench/work/ by default; when DATABASE_URL names a PostgreSQL server they are databases of
their own there, created here and dropped at the end. Each gets the portal's server
(`python -m ops.serve`, as `make run` starts it) with one worker per core; the main one
also gets plain gunicorn with sync workers, the server used before, for B and C side by
side. wrk drives these scenarios in alternating rounds, so that drift of the machine hits
all of them alike:

  A    GET /bench/ping            plain DRF JSON view, no authentication, no database query
  A2   GET /bench/credentials     the very view of B, authentication and permission switched off
  B    GET /api/credentials       with a bearer token holding read:credentials
  B@1k the same against the database with --small-tokens stored tokens
  I    POST /oauth/introspect     introspection of B's token by its own client (Basic, salted SHA-256 secret)
  C    POST /oauth/token          client credentials grants, the project's salted SHA-256 secret
  C@1k the same against the database with --small-tokens stored tokens
  C2   POST /oauth/token          grants for an application with two live secrets, with the newer one
  K    POST /oauth/token          grants authenticated by an ES256 client assertion (private_key_jwt), a fresh jti
                                  each: signed in bulk by this script before the rounds, each sent once
  F    POST /oauth/token          grants for a workload's RS256 token from a local OpenID issuer (a federated
                                  credential), a fresh jti each, pre-signed as for K; the issuer's keys kept in the
                                  shared cache, every fetch of them counted
  D    POST /oauth/token          the same grants, the secret hashed with Django's default PBKDF2
  S    GET /bench/stock           an empty DRF view behind the toolkit's stock OAuth2Authentication and
                                  TokenHasScope, with B's token: what the toolkit gives out of the box
  B-sync, C-sync                  B and C served by gunicorn sync workers on the main database
  B-net, C-net                    B and C for applications with 20 allowed networks, from an address inside them
  L    leak reports, in process   GitHub's report of 1,000 entries (a third live secrets, a third revoked ones,
                                  a third unknown) labelled as POST /secret-scanning/github does, against as many
                                  stored secrets as tokens in each database: the time per entry at 100,000 and at
                                  1,000 stored secrets; after the load rounds, --leak-rounds rounds

The /bench/ views exist only because the servers run with BENCHMARK_VIEWS=true.
"""

import argparse
import os
from pathlib import Path

from bench.common import ROOT

SCENARIOS = ["A", "A2", "B", "B-net", "S", "I", "C", "C-net", "C2", "K", "F", "D", "L"]


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tokens", type=int, default=100_000, help="stored access tokens in the main database")
    parser.add_argument(
        "--small-tokens",
        type=int,
        default=1_000,
        help="stored tokens in the comparison database for B and C (0: no comparison)",
    )
    parser.add_argument("--credentials", type=int, default=1_000, help="credentials of the benchmarked organization")
    parser.add_argument(
        "--filler-organizations",
        type=int,
        default=20,
        help="other organizations, each with 5 applications and credentials",
    )
    # Many short rounds: on a shared host throughput drifts by a third within seconds, and the
    # median of many paired ratios settles where a few long rounds do not.
    parser.add_argument("--rounds", type=int, default=40, help="alternating rounds")
    # Whole seconds: wrk takes no fractions.
    parser.add_argument("--duration", type=int, default=1, help="seconds of load per scenario and round")
    parser.add_argument(
        "--warmup", type=int, default=2, help="seconds of unmeasured load per scenario before the rounds (0: none)"
    )
    parser.add_argument("--leak-rounds", type=int, default=20, help="alternating rounds of scenario L")
    parser.add_argument("--connections", type=int, default=16, help="open connections of the load generator")
    parser.add_argument("--wrk-threads", type=int, default=1)
    parser.add_argument(
        "--workers", type=int, default=os.cpu_count() or 2, help="worker processes per server (default: one per core)"
    )
    parser.add_argument(
        "--threads", type=int, default=2, help="WSGI threads per worker of the portal's server (as `make run`: 2)"
    )
    parser.add_argument(
        "--no-sync-comparison", action="store_true", help="leave out B-sync and C-sync (gunicorn sync workers)"
    )
    parser.add_argument(
        "--scenarios", default=",".join(SCENARIOS), help=f"comma-separated subset of {','.join(SCENARIOS)}"
    )
    parser.add_argument(
        "--load-generator",
        choices=["auto", "wrk", "python"],
        default="auto",
        help="auto: wrk, installed with apt-get when missing, else the Python fallback",
    )
    parser.add_argument(
        "--quiet-wait",
        type=int,
        default=120,
        help="seconds in all that rounds may wait for other processes to leave the machine idle (0: never wait)",
    )
    parser.add_argument("--results", type=Path, default=ROOT / "bench" / "RESULTS.md", help="where to write the report")
    parser.add_argument("--no-results", action="store_true", help="print only; leave RESULTS.md alone")
    parser.add_argument("--keep-databases", action="store_true", help="do not drop the PostgreSQL databases at the end")
    args = parser.parse_args(argv)
    args.scenarios = [name.strip() for name in args.scenarios.split(",") if name.strip()]
    unknown = set(args.scenarios) - set(SCENARIOS)
    if unknown:
        parser.error(f"unknown scenarios: {', '.join(sorted(unknown))}")
    if args.tokens < 1 or args.small_tokens < 0 or (args.small_tokens and args.small_tokens >= args.tokens):
        parser.error("--tokens must be positive and larger than --small-tokens")
    if args.duration < 1 or args.warmup < 0 or args.rounds < 1 or args.leak_rounds < 1:
        parser.error("--duration, --rounds and --leak-rounds must be at least 1, --warmup at least 0")
    if "L" in args.scenarios and 0 < args.small_tokens < 1000:
        parser.error("scenario L needs --small-tokens of at least 1000 (or 0 for no comparison)")
    return args
