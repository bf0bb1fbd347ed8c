"""Scenario L, measured in process: GitHub's leak report of 1,000 entries against each database's stored secrets.

bench/run.py starts `python -m bench.leaks` once per database (DATABASE_URL naming it) and hands it the report
bench/seed.py made; each line it then sends is one round: the worker parses the report and labels its entries
exactly as POST /secret-scanning/github does (the signature, checked once a report, is left out), answers the
seconds that took, and makes the secrets it revoked live again, so every round reports the same mix. The rounds
alternate between the databases, as the load rounds do.
"""

import json
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.common import PYTHON, ROOT, log, server_environment
from bench.measure import QuietGate


class LeakWorker:
    """The measuring process for one database."""

    def __init__(self, database, report: dict):
        self.database = database
        self.process = subprocess.Popen(
            [PYTHON, "-m", "bench.leaks"],
            cwd=ROOT,
            env=server_environment(database.url),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self._send(report)

    def _send(self, message) -> None:
        self.process.stdin.write(json.dumps(message) + "\n")
        self.process.stdin.flush()

    def round(self) -> dict:
        self._send("round")
        line = self.process.stdout.readline()
        if not line:
            raise SystemExit(f"the leak report worker on the {self.database.label} database stopped")
        return json.loads(line)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.stdin.close()
            self.process.wait(timeout=30)


@dataclass
class LeakFigures:
    """Per-entry seconds of each round, by database label, and the stored secrets each database holds."""

    stored: dict[str, int]
    seconds_per_entry: dict[str, list[float]] = field(default_factory=dict)
    # The measuring process's own CPU time: on SQLite, the database's work too; steadier on a busy machine.
    cpu_seconds_per_entry: dict[str, list[float]] = field(default_factory=dict)
    true_positives: int = 0

    def median_us(self, label: str) -> float:
        return statistics.median(self.seconds_per_entry[label]) * 1e6

    def median_cpu_us(self, label: str) -> float:
        return statistics.median(self.cpu_seconds_per_entry[label]) * 1e6

    def ratios(self) -> list[float]:
        """main/small per round: slow drift of the machine cancels within a round."""
        main, small = self.seconds_per_entry.get("main", []), self.seconds_per_entry.get("small", [])
        return [a / b for a, b in zip(main, small, strict=False) if b]


def run_leak_rounds(args, databases, seeded: dict) -> LeakFigures:
    workers = [LeakWorker(database, seeded[database.label]["leak_report"]) for database in databases]
    figures = LeakFigures(stored={database.label: database.stored_secrets() for database in databases})
    # As the load rounds do: each round waits (within one budget) for other processes to leave the machine idle.
    gate = QuietGate(args.quiet_wait, lambda: [worker.process.pid for worker in workers])
    try:
        for worker in workers:
            for _ in range(min(args.warmup, 2)):
                worker.round()
        for number in range(1, args.leak_rounds + 1):
            gate.wait()
            for worker in workers if number % 2 else workers[::-1]:
                result = worker.round()
                per_entry = result["seconds"] / result["entries"]
                figures.seconds_per_entry.setdefault(worker.database.label, []).append(per_entry)
                cpu = result["cpu_seconds"] / result["entries"]
                figures.cpu_seconds_per_entry.setdefault(worker.database.label, []).append(cpu)
                figures.true_positives = result["true_positives"]
                log(
                    f"round {number} L@{worker.database.label:<5} {per_entry * 1e6:8.1f} µs/entry  "
                    f"CPU {cpu * 1e6:6.1f} µs  ({result['entries']} entries, {result['true_positives']} revoked)"
                )
    finally:
        for worker in workers:
            worker.stop()
    return figures


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    import django

    django.setup()
    from applications.models import ClientSecret
    from applications.secret_scanning import label_entries, parse_report
    from portal.actors import Actor

    report = json.loads(sys.stdin.readline())
    body = json.dumps(report["entries"]).encode()
    actor = Actor.server("bench")
    for _ in sys.stdin:
        started, cpu = time.perf_counter(), time.process_time()
        answers, revoked = label_entries(parse_report(body), actor=actor)
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        ClientSecret.objects.filter(pk__in=report["live_ids"]).update(revoked_at=None, leak_url=None)
        result = {"seconds": seconds, "cpu_seconds": cpu, "entries": len(answers), "true_positives": len(revoked)}
        print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
