"""The report: the scenario table, the paired ratios against their targets, printed and written to RESULTS.md."""

import os
import platform
import statistics
from dataclasses import dataclass
from pathlib import Path

from bench.common import package_version
from bench.measure import Summary


def machine_description() -> list[str]:
    cpu = "?"
    try:
        cpu = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
    except (OSError, StopIteration):
        pass
    memory = "?"
    try:
        memory = f"{int(Path('/proc/meminfo').read_text().split()[1]) / 1024 / 1024:.1f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    return [
        f"CPU: {cpu}, {os.cpu_count()} cores; memory {memory}",
        f"OS: {platform.system()} {platform.release()} ({platform.machine()})",
        f"Python {platform.python_version()}, Django {package_version('Django')}, DRF {package_version('djangorestframework')}, "
        f"django-oauth-toolkit {package_version('django-oauth-toolkit')}, oauthlib {package_version('oauthlib')}",
    ]


def round_ratios(summaries: dict[str, Summary], top: str, bottom: str) -> list[float]:
    if top not in summaries or bottom not in summaries:
        return []
    return [a.rps / b.rps for a, b in zip(summaries[top].rounds, summaries[bottom].rounds, strict=False) if b.rps]


def ratio(summaries: dict[str, Summary], top: str, bottom: str) -> float | None:
    """The median over the rounds of the two scenarios' ratio in the same round: drift between rounds cancels."""
    ratios = round_ratios(summaries, top, bottom)
    return statistics.median(ratios) if ratios else None


def spread(summaries: dict[str, Summary], top: str, bottom: str) -> str:
    """The middle half of the per-round ratios, to show how much the machine moved under them."""
    return middle_half(round_ratios(summaries, top, bottom))


def middle_half(ratios: list[float]) -> str:
    if len(ratios) < 4:
        return ""
    q1, _, q3 = statistics.quantiles(ratios, n=4)
    return f"{shown(q1)}–{shown(q3)}"


@dataclass(frozen=True)
class Goal:
    """A target for one figure: the text the report shows, and the bounds the figure must lie within."""

    text: str
    minimum: float | None = None
    maximum: float | None = None

    def met(self, value: float) -> bool:
        return (self.minimum is None or value >= self.minimum) and (self.maximum is None or value <= self.maximum)


NONE_AT_ALL = Goal("0", maximum=0)


@dataclass(frozen=True)
class Target:
    """One line of the ratios and targets table; `goal` None shows the figure without judging it."""

    label: str
    value: float | None
    goal: Goal | None = None
    middle: str = ""

    @property
    def verdict(self) -> bool | None:
        return None if self.goal is None or self.value is None else self.goal.met(self.value)


def targets(summaries: dict[str, Summary], context: dict) -> list[Target]:
    def paired(label, top, bottom, goal):
        return Target(label, ratio(summaries, top, bottom), goal, spread(summaries, top, bottom))

    rows = [
        paired(
            "B/S: a page of credentials against the toolkit's stock empty view", "B", "S", Goal("≥ 1.3", minimum=1.3)
        ),
        paired("B/B-sync: the API on this server against gunicorn sync", "B", "B-sync", Goal("≥ 0.95", minimum=0.95)),
        paired("C/C-sync: grants on this server against gunicorn sync", "C", "C-sync", Goal("≥ 0.95", minimum=0.95)),
        paired("B/A2: what security costs the endpoint", "B", "A2", Goal("≥ 0.9", minimum=0.9)),
        paired("B/A: the endpoint against the stack's ceiling", "B", "A", None),
        # Introspection authenticates the client and reads the token, but runs no view, permission or page query.
        paired("I/B: introspections against API requests", "I", "B", Goal("≥ 1", minimum=1.0)),
        paired("C/A: grants against the ceiling", "C", "A", Goal("≥ 0.25", minimum=0.25)),
        paired("C/D: salted SHA-256 against PBKDF2 grants", "C", "D", Goal("≥ 50", minimum=50)),
        paired("C2/C: two live secrets against one", "C2", "C", Goal("≥ 0.9", minimum=0.9)),
        # A signature check and a jti claimed once, where a secret costs one salted hash.
        paired("K/C: grants by ES256 client assertion against secrets", "K", "C", Goal("≥ 0.7", minimum=0.7)),
        # Allowed networks ride along with the application each request reads already, parsed once per list.
        paired("B-net/B: the API with 20 allowed networks", "B-net", "B", Goal("≥ 0.95", minimum=0.95)),
        paired("C-net/C: grants with 20 allowed networks", "C-net", "C", Goal("≥ 0.95", minimum=0.95)),
        # A signature check with the issuer's kept keys (one shared-cache read) and a jti claimed once.
        paired("F/C: grants by a workload's token (federated) against secrets", "F", "C", Goal("≥ 0.6", minimum=0.6)),
    ]
    if "F" in summaries:
        rounds = summaries["F"].rounds
        rows.append(
            Target(
                f"F: issuer key fetches after the first round ({rounds[0].issuer_fetches} in it)",
                sum(r.issuer_fetches for r in rounds[1:]),
                NONE_AT_ALL,
            )
        )
    for key in ("B", "C"):
        small = next((k for k in summaries if k.startswith(key + "@")), None)
        if small and key in summaries:
            rows.append(
                paired(
                    f"{key} at {summaries[key].tokens:,} / {key} at {summaries[small].tokens:,} stored tokens",
                    key,
                    small,
                    Goal("1 ± 0.1", minimum=0.9, maximum=1.1),
                )
            )
    leaks = context.get("leaks")
    if leaks and leaks.ratios():
        rows.append(
            Target(
                f"L at {leaks.stored['main']:,} / L at {leaks.stored['small']:,} stored secrets: time per reported entry",
                statistics.median(leaks.ratios()),
                Goal("1 ± 0.1", minimum=0.9, maximum=1.1),
                middle_half(leaks.ratios()),
            )
        )
    failures = sum(s.total("non_2xx") + s.total("socket_errors") for s in summaries.values())
    rows += [
        Target("non-2xx responses and socket errors", failures, NONE_AT_ALL),
        Target('"database is locked" in the server logs', context["locked"], NONE_AT_ALL),
        Target("server errors logged (tracebacks)", context["tracebacks"], NONE_AT_ALL),
    ]
    return rows


def shown(value) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:.0f}" if value >= 10 else f"{value:.2f}"


def scenario_table(summaries: dict[str, Summary]) -> list[str]:
    lines = [
        "| scenario | stored tokens | requests/s | p50 ms | p99 ms | requests | non-2xx | socket errors | peak RSS per worker | other CPU |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for key, s in summaries.items():
        lines.append(
            f"| {key}: {s.scenario.label} | {s.tokens:,} | {s.rps:,.0f} | {s.median('p50_ms'):.2f} | {s.median('p99_ms'):.2f} | "
            f"{s.total('requests'):,} | {s.total('non_2xx')} | {s.total('socket_errors')} | {s.rss_peak_mib:.0f} MiB | "
            f"{s.median('other_cpu'):.0%} |"
        )
    return lines


def leak_table(leaks) -> list[str]:
    lines = [
        "| database | stored secrets | µs per entry | CPU µs per entry | rounds |",
        "|---|---:|---:|---:|---:|",
    ]
    for label, rounds in leaks.seconds_per_entry.items():
        lines.append(
            f"| {label} | {leaks.stored[label]:,} | {leaks.median_us(label):,.0f} | {leaks.median_cpu_us(label):,.0f} | "
            f"{len(rounds)} |"
        )
    return lines


def report(args, summaries: dict[str, Summary], context: dict) -> str:
    lines = [
        "# Benchmark results",
        "",
        f"Written by `make bench` (`{context['command']}`) on {context['date']}, in {context['elapsed']:.0f} s.",
        "",
        "## Machine and set-up",
        "",
    ]
    for item in machine_description() + [
        f"Database: {context['database']}",
        f"Server: {context['server']}",
        *([f"Comparison server (B-sync, C-sync): {context['comparison']}"] if context.get("comparison") else []),
        f"Load generator: {context['load']}, on the same machine, over 127.0.0.1",
        f"Rounds: {args.rounds}, each running every scenario for {args.duration} s in turn (after {args.warmup} s of warm-up each); "
        f"the tokens a grant round issues are deleted after it",
        f"Stored tokens: {args.tokens:,} in the main database, {args.small_tokens:,} in the comparison one; one in five expired",
        f"Credentials: {args.credentials:,} of the benchmarked organization (page size 20), {args.credentials // 2:,} for each of "
        f"{args.filler_organizations} other organizations with 5 applications each",
    ]:
        lines.append(f"- {item}")
    lines += (
        ["", "## Scenarios", ""]
        + scenario_table(summaries)
        + [
            "",
            "Requests/s, p50 and p99 are medians over the rounds. Other CPU is the median share of the machine that "
            "processes outside the benchmark used during a round: 0 % on a quiet machine. Each ratio below is the "
            "median over the rounds of the two scenarios' ratio within one round, so slow drift of the machine cancels.",
            "",
        ]
    )
    if context.get("leaks"):
        lines += (
            ["## Leak reports (L, in process)", ""]
            + leak_table(context["leaks"])
            + [
                "",
                f"A report of 1,000 entries ({context['leaks'].true_positives} of them live secrets, revoked in each "
                "round and made live again after it; a third revoked already, a third unknown) labelled as "
                "`POST /secret-scanning/github` does, signature aside, by a process of its own on each database after "
                f"the load rounds; {args.leak_rounds} alternating rounds. µs per entry is the median over the rounds of "
                "the time the report took; CPU µs that of the measuring process's own CPU time (on SQLite the "
                "database's work is in it too).",
                "",
            ]
        )
    lines += [
        "## Ratios and targets",
        "",
        "| ratio | value | middle half of the rounds | target | met |",
        "|---|---:|---:|---:|:---:|",
    ]
    for target in targets(summaries, context):
        met = {None: "", True: "yes", False: "**no**"}[target.verdict]
        goal = target.goal.text if target.goal else ""
        lines.append(f"| {target.label} | {shown(target.value)} | {target.middle} | {goal} | {met} |")
    lines += ["", f"Peak resident memory per worker over the whole run (VmHWM): {context['hwm']}.", ""]
    if context.get("disturbed"):
        lines += [f"**Disturbed run:** {context['disturbed']}", ""]
    lines += [f"After the load: {context['cleartokens']}", ""]
    return "\n".join(lines)


def print_report(summaries: dict[str, Summary], context: dict) -> None:
    print(
        f"\n{'scenario':<62}{'tokens':>9}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'non-2xx':>9}{'sockerr':>9}{'RSS MiB':>9}{'other':>7}"
    )
    for key, s in summaries.items():
        print(
            f"{key + ': ' + s.scenario.label:<62}{s.tokens:>9,}{s.rps:>9.0f}{s.median('p50_ms'):>9.2f}{s.median('p99_ms'):>9.2f}"
            f"{s.total('non_2xx'):>9}{s.total('socket_errors'):>9}{s.rss_peak_mib:>9.0f}{s.median('other_cpu'):>7.0%}"
        )
    leaks = context.get("leaks")
    if leaks:
        for label in leaks.seconds_per_entry:
            print(
                f"{'L@' + label + ': leak report, per entry':<62}{leaks.stored[label]:>9,} secrets "
                f"{leaks.median_us(label):>9.1f} µs  CPU {leaks.median_cpu_us(label):.1f} µs"
            )
    print()
    for target in targets(summaries, context):
        verdict = {None: "", True: "met", False: "NOT MET"}[target.verdict]
        goal = target.goal.text if target.goal else ""
        print(f"{target.label:<62}{shown(target.value):>10}{target.middle:>13}  {goal:<8}{verdict}")
    print(f"\npeak RSS per worker (VmHWM): {context['hwm']}")
    if context.get("disturbed"):
        print(f"DISTURBED RUN: {context['disturbed']}")
    print(context["cleartokens"])
