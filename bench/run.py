#!/usr/bin/env python3
"""`make bench`: load the token endpoint and the scoped API over 127.0.0.1 and write bench/RESULTS.md.

The entry point: `python bench/run.py --help` describes the run (bench/cli.py). The parts:
bench/databases.py (fresh seeded databases), bench/servers.py (the servers under load),
bench/scenarios.py and bench/load.py (what is requested, by wrk or a Python fallback),
bench/measure.py (rounds, CPU and memory from /proc), bench/leaks.py (leak reports, measured in process) and
bench/report.py (RESULTS.md).
"""

import datetime as dt
import os
import signal
import sys
import time
from pathlib import Path

# Run as a script, Python puts bench/ first on the path; the modules import as the bench package from the root.
sys.path[0] = str(Path(__file__).resolve().parent.parent)

from bench.cli import parse_args  # noqa: E402
from bench.common import WORK, log  # noqa: E402
from bench.databases import Database, clear_expired_tokens  # noqa: E402
from bench.issuer import BenchIssuer  # noqa: E402
from bench.leaks import run_leak_rounds  # noqa: E402
from bench.load import Load, ensure_wrk  # noqa: E402
from bench.measure import proc_status_kib, run_rounds  # noqa: E402
from bench.report import print_report, report  # noqa: E402
from bench.scenarios import build_scenarios  # noqa: E402
from bench.servers import Server  # noqa: E402


def main(argv=None) -> int:
    args = parse_args(argv)
    started = time.monotonic()
    WORK.mkdir(parents=True, exist_ok=True)
    databases = [Database("main", keep=args.keep_databases)]
    if args.small_tokens and {"B", "C", "L"} & set(args.scenarios):
        databases.append(Database("small", keep=args.keep_databases))
    servers: list[Server] = []
    load_scenarios = set(args.scenarios) - {"L"}
    # F: a local issuer for the run; the seed and the servers (whose environment is this one's) trust its origin.
    issuer = BenchIssuer() if "F" in args.scenarios else None
    if issuer:
        os.environ["FEDERATION_INSECURE_ISSUERS"] = issuer.url
        args.issuer_url = issuer.url

    def interrupted(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupted)
    try:
        seeded = {}
        # No second database when --small-tokens is 0.
        for database, tokens in zip(databases, [args.tokens, args.small_tokens], strict=False):
            database.create()
            seeded[database.label] = database.seed(args, tokens)
            log(f"{database.label} database: {database.url.split('@')[-1]}, {database.stored_tokens():,} stored tokens")
        summaries, gate, hwm, logs, load, sync = {}, None, {}, "", None, None
        if load_scenarios:
            wrk = ensure_wrk(args.load_generator)
            for database in databases:
                servers.append(Server(args, database))
            if not args.no_sync_comparison and {"B", "C"} & set(args.scenarios):
                sync = Server(args, databases[0], kind="sync")
                servers.append(sync)
            for server in servers:
                server.start()
                log(f"{server.database.label} server on {server.base}: {server.describe()}")
            small = next((server for server in servers if server.database.label == "small"), None)
            scenarios = build_scenarios(args, servers[0], small, sync, seeded, issuer)
            load = Load(args, wrk)
            log(f"{args.rounds} rounds of {', '.join(s.key for s in scenarios)}, {args.duration} s each")
            summaries, gate = run_rounds(args, load, scenarios, servers)

            hwm = {pid: proc_status_kib(pid, "VmHWM") or 0 for pid in servers[0].worker_pids()}
            logs = "".join(server.log_text() for server in servers)
            for server in servers:
                server.stop()
        # In process, once the servers are gone: each database's worker alone on the machine in its turn.
        leaks = run_leak_rounds(args, databases, seeded) if "L" in args.scenarios else None
        disturbed = [k for k, s in summaries.items() if s.median("other_cpu") > 0.10]
        context = {
            "command": " ".join(["python bench/run.py", *(argv if argv is not None else sys.argv[1:])]),
            "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "database": databases[0].describe(),
            "server": servers[0].describe() if servers else "none (no load scenario)",
            "comparison": sync.describe() if sync else "",
            "load": load.describe() if load else "none",
            "locked": logs.count("database is locked"),
            "tracebacks": logs.count("Traceback"),
            "hwm": ", ".join(f"{kib / 1024:.0f} MiB" for kib in hwm.values()) or "n/a",
            "disturbed": (
                f"other processes used more than 10 % of the machine during most rounds of {', '.join(disturbed)} "
                f"(after waiting {gate.waited:.0f} s for quiet); rerun on a quiet machine before trusting the ratios."
                if disturbed
                else ""
            ),
            "leaks": leaks,
            "cleartokens": clear_expired_tokens(databases[0]),
            "elapsed": time.monotonic() - started,
        }
        print_report(summaries, context)
        if not args.no_results:
            args.results.write_text(report(args, summaries, context))
            log(f"wrote {args.results}")
        return 0
    except KeyboardInterrupt:
        log("interrupted")
        return 130
    finally:
        for server in servers:
            server.stop()
        for database in databases:
            database.drop()
        if issuer:
            issuer.close()


if __name__ == "__main__":
    sys.exit(main())
