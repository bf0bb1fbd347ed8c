"""The run's databases: seeded through bench/seed.py, trimmed between rounds, dropped at the end."""

import json
import os
import sqlite3
import subprocess
import time
import urllib.parse
from pathlib import Path

from bench.common import PYTHON, ROOT, WORK, log, server_environment


class Database:
    """A fresh database for one run: a SQLite file in bench/work/, or a PostgreSQL database of its own."""

    def __init__(self, label: str, *, keep: bool):
        self.label = label
        self.keep = keep
        given = os.environ.get("DATABASE_URL", "")
        self.postgres = given.startswith(("postgres://", "postgresql://", "pgsql://"))
        if self.postgres:
            self.admin_url = given
            self.name = f"portal_bench_{os.getpid()}_{label}"
            parts = urllib.parse.urlsplit(given)
            self.url = urllib.parse.urlunsplit(parts._replace(path="/" + self.name))
        else:
            self.path = WORK / f"bench-{label}.sqlite3"
            self.url = f"sqlite:///{self.path}"
        self.token_table = "oauth2_provider_accesstoken"

    def create(self) -> None:
        if self.postgres:
            import psycopg

            with psycopg.connect(self.admin_url, autocommit=True) as connection:
                connection.execute(f'DROP DATABASE IF EXISTS "{self.name}"')
                connection.execute(f'CREATE DATABASE "{self.name}"')
        else:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{self.path}{suffix}").unlink(missing_ok=True)

    def drop(self) -> None:
        if not self.postgres or self.keep:
            return
        import psycopg

        try:
            with psycopg.connect(self.admin_url, autocommit=True) as connection:
                connection.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
            log(f"dropped PostgreSQL database {self.name}")
        except Exception as error:  # the run's figures matter more than the clean-up
            log(f"could not drop {self.name}: {error}")

    def query(self, sql: str, params=()) -> list[tuple]:
        """Housekeeping between rounds, through the database driver itself; `?` marks a parameter."""
        if self.postgres:
            import psycopg

            with psycopg.connect(self.url, autocommit=True) as connection:
                cursor = connection.execute(sql.replace("?", "%s"), params)
                return cursor.fetchall() if cursor.description else []
        connection = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        try:
            cursor = connection.execute(sql, params)
            return cursor.fetchall()
        finally:
            connection.close()

    def stored_tokens(self) -> int:
        return self.query(f"SELECT COUNT(*) FROM {self.token_table}")[0][0]

    def stored_secrets(self) -> int:
        return self.query("SELECT COUNT(*) FROM applications_clientsecret")[0][0]

    def max_token_id(self) -> int:
        return self.query(f"SELECT COALESCE(MAX(id), 0) FROM {self.token_table}")[0][0]

    def trim_tokens(self, keep_up_to_id: int) -> None:
        """Delete the tokens a grant round issued, so every round starts from the same table size.

        Only grants that finished (their token's record of its credential is written): deleting the token of a
        grant still in flight would fail that grant's record, a server error no client would ever cause.
        """
        issued = self.issued_table
        finished = f"DELETE FROM {self.token_table} WHERE id > ? AND id IN (SELECT access_token_id FROM {issued})"
        if self.postgres:
            # One statement: the records go with their tokens before the foreign key is checked.
            self.query(
                f"WITH gone AS ({finished} RETURNING id) DELETE FROM {issued} WHERE access_token_id IN "
                "(SELECT id FROM gone)",
                (keep_up_to_id,),
            )
            return
        self.query(finished, (keep_up_to_id,))
        self.query(
            f"DELETE FROM {issued} WHERE access_token_id > ? "
            f"AND access_token_id NOT IN (SELECT id FROM {self.token_table})",
            (keep_up_to_id,),
        )

    def describe(self) -> str:
        if self.postgres:
            return f"PostgreSQL {self.query('SHOW server_version')[0][0]} on 127.0.0.1"
        return f"SQLite {sqlite3.sqlite_version} (WAL, synchronous=NORMAL, BEGIN IMMEDIATE), files in bench/work/"

    def seed(self, args, tokens: int) -> dict:
        done = subprocess.run(
            [
                PYTHON,
                "-m",
                "bench.seed",
                "--tokens",
                str(tokens),
                "--credentials",
                str(args.credentials),
                "--filler-organizations",
                str(args.filler_organizations),
                # Scenario L: as many stored client secrets as stored tokens.
                "--secrets",
                str(tokens if "L" in args.scenarios else 0),
                # Scenario F: an application trusting the run's local issuer.
                *(["--issuer", args.issuer_url] if getattr(args, "issuer_url", None) else []),
            ],
            cwd=ROOT,
            env=server_environment(self.url),
            capture_output=True,
            text=True,
            timeout=900,
        )
        for line in done.stdout.splitlines():
            if line.startswith("BENCH_SEED "):
                seeded = json.loads(line.removeprefix("BENCH_SEED "))
                self.token_table = seeded["token_table"]
                self.issued_table = seeded["issued_table"]
                return seeded
        raise SystemExit(f"seeding {self.label} failed:\n{done.stdout}\n{done.stderr}")


def clear_expired_tokens(database: Database) -> str:
    """Run the toolkit's cleartokens on the main database, as an operator's schedule would."""
    before = database.stored_tokens()
    started = time.monotonic()
    done = subprocess.run(
        [PYTHON, "manage.py", "cleartokens"],
        cwd=ROOT,
        env=server_environment(database.url),
        capture_output=True,
        text=True,
        timeout=600,
    )
    seconds = time.monotonic() - started
    if done.returncode:
        return f"`manage.py cleartokens` failed: {done.stderr.strip()[-300:]}"
    removed = before - database.stored_tokens()
    return f"`manage.py cleartokens` removed {removed:,} expired tokens of {before:,} in {seconds:.1f} s."
