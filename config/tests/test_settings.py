import ast
import importlib
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from config.settings import _secret_key_from_file

ROOT = Path(settings.BASE_DIR)


def manage(*args, **env):
    # The browser tests' async-safety opt-out must not leak into a deployment-like process.
    inherited = {key: value for key, value in os.environ.items() if key != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**inherited, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_settings_pass_the_deploy_check():
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DEBUG="false",
        SECURE="true",
        SECRET_KEY="k" * 20 + "-Zq8#x!p2@vL9$mN4&bR7^tY1*wE6(uI3)oP0_aS5+dF",
        ALLOWED_HOSTS="portal.example",
        PUBLIC_BASE_URL="https://portal.example",
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_the_generated_secret_key_is_kept(tmp_path):
    path = tmp_path / "secret"

    first = _secret_key_from_file(path)

    assert len(first) >= 50
    assert _secret_key_from_file(path) == first
    assert oct(path.stat().st_mode & 0o777) == "0o600"


@pytest.mark.django_db
def test_every_model_change_has_its_migration():
    out = StringIO()
    # --check exits non-zero when a model change has no migration.
    call_command("makemigrations", "--check", "--dry-run", stdout=out)

    assert out.getvalue().strip() == "No changes detected"


def test_embedded_sqlite_runs_in_wal_mode_with_a_busy_timeout(tmp_path):
    probe = (
        "from django.db import connection;"
        "c = connection.cursor();"
        "print(c.execute('PRAGMA journal_mode').fetchone()[0], c.execute('PRAGMA busy_timeout').fetchone()[0],"
        " connection.settings_dict['OPTIONS']['transaction_mode'])"
    )

    result = manage("shell", "-v", "0", "-c", probe, DATABASE_URL=f"sqlite:///{tmp_path / 'probe.sqlite3'}")

    journal_mode, busy_timeout_ms, transaction_mode = result.stdout.split()
    assert journal_mode == "wal"
    assert int(busy_timeout_ms) >= 5000
    assert transaction_mode == "IMMEDIATE"


def test_the_default_cache_is_shared_between_processes():
    assert "LocMem" not in settings.CACHES["default"]["BACKEND"]


def failure_limits(**env) -> dict:
    result = manage("shell", "-v", "0", "-c", "from django.conf import settings; print(settings.FAILURE_LIMITS)", **env)
    assert result.returncode == 0, result.stderr
    return ast.literal_eval(result.stdout)


def test_the_limit_variables_are_read_and_their_former_names_still_work():
    limits = failure_limits(
        TOKEN_FAILURE_LIMIT_PER_CLIENT="7,60",
        TOKEN_FAILURE_LIMIT_PER_ADDRESS="70,600",
        SIGNIN_FAILURE_LIMIT_PER_USERNAME_ADDRESS="3,30",
        SIGNIN_FAILURE_LIMIT_PER_USERNAME="9,90",  # the new name wins
        SIGNIN_FAILURE_LIMIT_PER_ADDRESS="30,300",
        SECOND_STEP_FAILURE_LIMIT_PER_USER="4,600",
    )

    assert limits == {
        "TOKEN_PER_CLIENT_ADDRESS": (7, 60),
        "TOKEN_PER_ADDRESS": (70, 600),
        "SIGNIN_PER_USERNAME_ADDRESS": (3, 30),
        "SIGNIN_PER_ADDRESS": (30, 300),
        "SECOND_STEP_PER_USER": (4, 600),
        "INVITATION_PER_ADDRESS": (20, 900),
        "INVITATION_SIGNUP_PER_ADDRESS": (10, 900),
    }


def test_a_limit_of_zero_is_refused_at_start_up():
    result = manage("check", TOKEN_FAILURE_LIMIT_PER_ADDRESS="0,300")

    assert result.returncode != 0
    assert "TOKEN_FAILURE_LIMIT_PER_ADDRESS must be two positive whole numbers" in result.stderr


def test_trusted_proxies_are_read_as_addresses_and_ranges_of_either_family():
    probe = "from django.conf import settings; print(*settings.TRUSTED_PROXIES)"
    result = manage("shell", "-v", "0", "-c", probe, TRUSTED_PROXIES=" 10.0.0.0/8, 192.0.2.7,2001:db8::/32 ,")

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["10.0.0.0/8", "192.0.2.7/32", "2001:db8::/32"]


@pytest.mark.parametrize("entry", ["proxy.internal", "10.0.0.1/8"])
def test_a_trusted_proxy_that_is_no_address_or_range_is_refused_at_start_up(entry):
    result = manage("check", TRUSTED_PROXIES=f"10.0.0.0/8,{entry}")

    assert result.returncode != 0
    assert f"TRUSTED_PROXIES: “{entry}”" in result.stderr


def test_the_portal_refuses_to_start_on_a_redis_that_may_evict_counters():
    from testing.throwaway import RedisServer

    server = RedisServer("--maxmemory-policy", "allkeys-lru").start()
    try:
        result = manage("check", CACHE_URL=server.url)
    finally:
        server.close()

    assert result.returncode != 0
    assert "maxmemory-policy 'allkeys-lru'" in result.stderr


@pytest.mark.parametrize("log_format, formatter", [("json", "json"), ("text", "text"), (None, "text")])
def test_log_format_picks_the_formatter(monkeypatch, log_format, formatter):
    if log_format is None:
        monkeypatch.delenv("LOG_FORMAT", raising=False)
    else:
        monkeypatch.setenv("LOG_FORMAT", log_format)
    import config.settings

    try:
        reloaded = importlib.reload(config.settings)
        assert reloaded.LOGGING["handlers"]["console"]["formatter"] == formatter
        assert reloaded.LOGGING["handlers"]["console"]["filters"] == ["redact_secrets"]
    finally:
        monkeypatch.delenv("LOG_FORMAT", raising=False)
        importlib.reload(config.settings)


def _email_settings(**env) -> list:
    environment = {key: value for key, value in os.environ.items() if key != "EMAIL_URL"}
    script = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.INVITATION_EMAILS, s.EMAIL_BACKEND, s.EMAIL_HOST, s.EMAIL_PORT, s.EMAIL_HOST_USER, s.EMAIL_USE_TLS)"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        env={**environment, "DJANGO_SETTINGS_MODULE": "config.settings", **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.split()


def test_email_url_is_read_with_django_environ():
    assert _email_settings(EMAIL_URL="smtp+tls://mailer:pw@mail.example:587") == [
        "True",
        "django.core.mail.backends.smtp.EmailBackend",
        "mail.example",
        "587",
        "mailer",
        "True",
    ]
    # Unset: a backend that cannot send, and the page says the link was not mailed.
    assert _email_settings()[:2] == ["False", "django.core.mail.backends.dummy.EmailBackend"]
