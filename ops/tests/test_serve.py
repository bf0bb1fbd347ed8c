"""`python -m ops.serve`: its defaults and the metrics directory it prepares.

The server itself runs in tests/faults."""

import os

from ops import serve


def test_defaults_follow_make_run(monkeypatch):
    for name in ("HOST", "PORT", "WORKERS", "THREADS"):
        monkeypatch.delenv(name, raising=False)

    args = serve.parse_args([])

    assert (args.host, args.port, args.threads) == ("127.0.0.1", 8000, 2)
    assert args.workers == (os.cpu_count() or 2)
    assert args.graceful_timeout < 30  # SIGTERM exits within 30 s (contract §8)


def test_the_environment_sets_address_and_workers(monkeypatch):
    monkeypatch.setenv("HOST", "0.0.0.0")
    monkeypatch.setenv("PORT", "9000")
    monkeypatch.setenv("WORKERS", "3")

    args = serve.parse_args([])

    assert (args.host, args.port, args.workers) == ("0.0.0.0", 9000, 3)


def test_a_given_metrics_directory_is_emptied_at_start(monkeypatch, tmp_path):
    stale = tmp_path / "counter_1234.db"
    stale.write_bytes(b"old totals")
    keep = tmp_path / "README"
    keep.write_text("not a metrics file")
    monkeypatch.setenv(serve.METRICS_DIR_VARIABLE, str(tmp_path))

    assert serve.prepare_metrics_dir() == tmp_path
    assert not stale.exists() and keep.exists()


def test_without_a_metrics_directory_a_fresh_one_is_made():
    assert serve.METRICS_DIR_VARIABLE not in os.environ

    path = serve.prepare_metrics_dir()
    try:
        assert path.is_dir() and list(path.iterdir()) == []
        assert os.environ[serve.METRICS_DIR_VARIABLE] == str(path)
    finally:
        # Set by the code, not by monkeypatch: removed by hand, or later servers would inherit it.
        os.environ.pop(serve.METRICS_DIR_VARIABLE, None)
        path.rmdir()
