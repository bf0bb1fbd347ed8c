"""Measuring a round from /proc (worker memory, the CPU of the servers and of the rest), and the rounds themselves."""

import os
import statistics
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.common import log
from bench.load import Load
from bench.scenarios import Scenario, preflight
from bench.servers import Server


def proc_status_kib(pid: int, key: str) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


class RssSampler:
    """Samples each worker's resident set size from /proc while a round runs."""

    def __init__(self, pids: list[int], interval: float = 0.2):
        self.pids = pids
        self.interval = interval
        self.peak_kib: dict[int, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self._sample()

    def _sample(self) -> None:
        for pid in self.pids:
            kib = proc_status_kib(pid, "VmRSS")
            if kib is not None:
                self.peak_kib[pid] = max(self.peak_kib.get(pid, 0), kib)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample()


def busy_seconds() -> float:
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def process_seconds(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(stat[11]) + int(stat[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, IndexError, ValueError):
            pass
    return total


class CpuMeter:
    """The share of the machine's CPU that processes other than the servers, wrk and this script used.

    The machine may be shared; a figure well above zero says the round's numbers were disturbed.
    """

    def __init__(self, server_pids: list[int]):
        self.server_pids = server_pids
        self.other_share = 0.0

    def _ours(self) -> float:
        import resource

        total = process_seconds(self.server_pids)
        for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
            usage = resource.getrusage(who)
            total += usage.ru_utime + usage.ru_stime
        return total

    def __enter__(self):
        self._started, self._busy, self._ours_at_start = time.monotonic(), busy_seconds(), self._ours()
        return self

    def __exit__(self, *exc):
        elapsed = time.monotonic() - self._started
        other = (busy_seconds() - self._busy) - (self._ours() - self._ours_at_start)
        self.other_share = max(other, 0.0) / (elapsed * (os.cpu_count() or 1)) if elapsed else 0.0


class QuietGate:
    """Before a round, waits (within one budget for the whole run) until other processes leave the machine idle."""

    def __init__(self, budget: float, pids, threshold: float = 0.10):
        self.remaining = budget
        self.pids = pids
        self.threshold = threshold
        self.waited = 0.0

    def wait(self, sample: float = 0.5) -> None:
        while self.remaining > 0:
            with CpuMeter(self.pids()) as meter:
                time.sleep(sample)
            if meter.other_share < self.threshold:
                return
            self.remaining -= sample
            self.waited += sample


@dataclass
class Round:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    non_2xx: int
    socket_errors: int
    rss_peak_mib: float
    other_cpu: float
    cpu_us: float  # worker CPU time per request
    issuer_fetches: int = 0  # F: fetches of the issuer's keys during the round

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


@dataclass
class Summary:
    scenario: Scenario
    tokens: int
    rounds: list[Round] = field(default_factory=list)

    def median(self, name: str) -> float:
        return statistics.median(getattr(r, name) for r in self.rounds)

    @property
    def rps(self) -> float:
        return self.median("rps")

    def total(self, name: str) -> int:
        return sum(getattr(r, name) for r in self.rounds)

    @property
    def rss_peak_mib(self) -> float:
        return max(r.rss_peak_mib for r in self.rounds)


def run_rounds(
    args, load: Load, scenarios: list[Scenario], servers: list[Server]
) -> tuple[dict[str, Summary], QuietGate]:
    keep = {server.database.label: server.database.max_token_id() for server in servers}
    summaries = {s.key: Summary(s, s.server.database.stored_tokens()) for s in scenarios}
    for scenario in scenarios:
        preflight(scenario)
        if args.warmup:
            load.run(scenario, args.warmup)
        if scenario.issues_tokens:
            scenario.server.database.trim_tokens(keep[scenario.server.database.label])

    def all_pids():
        return [pid for server in servers for pid in [server.process.pid, *server.worker_pids()]]

    gate = QuietGate(args.quiet_wait, all_pids)
    for number in range(1, args.rounds + 1):
        gate.wait()
        # Every other round runs backwards, so that drift within a round favours no scenario.
        for scenario in scenarios if number % 2 else scenarios[::-1]:
            pids = scenario.server.worker_pids()
            worker_seconds = process_seconds(pids)
            fetched = scenario.fetches() if scenario.fetches else 0
            with RssSampler(pids) as rss, CpuMeter(all_pids()) as cpu:
                result = load.run(scenario, args.duration)
            worker_seconds = process_seconds(pids) - worker_seconds
            fetched = (scenario.fetches() if scenario.fetches else 0) - fetched
            if scenario.issues_tokens:
                scenario.server.database.trim_tokens(keep[scenario.server.database.label])
            round_ = Round(
                requests=result["requests"],
                seconds=result["duration_us"] / 1e6,
                p50_ms=result["p50_us"] / 1000,
                p99_ms=result["p99_us"] / 1000,
                non_2xx=result["non_2xx"],
                socket_errors=result["connect_errors"]
                + result["read_errors"]
                + result["write_errors"]
                + result["timeouts"],
                rss_peak_mib=max(rss.peak_kib.values(), default=0) / 1024,
                other_cpu=cpu.other_share,
                cpu_us=worker_seconds * 1e6 / max(result["requests"], 1),
                issuer_fetches=fetched,
            )
            summaries[scenario.key].rounds.append(round_)
            log(
                f"round {number} {scenario.key:<5} {round_.rps:8.1f} req/s  p50 {round_.p50_ms:7.2f} ms  "
                f"p99 {round_.p99_ms:8.2f} ms  non-2xx {round_.non_2xx}  socket errors {round_.socket_errors}  "
                f"other CPU {round_.other_cpu:4.0%}  worker CPU {round_.cpu_us:6.0f} µs/request"
            )
    return summaries, gate
