"""Schemathesis fuzzes every documented operation against a live server: no server error, answers match the schema."""

import os
import subprocess
import sys
from pathlib import Path

from api.tests.helpers import ALL_SCOPES

SCHEMATHESIS = Path(sys.executable).parent / "st"
CHECKS = ",".join(
    (
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_headers_conformance",
        "response_schema_conformance",
    )
)


def test_the_api_conforms_to_its_schema_under_fuzzing(
    live_server, make_credential, make_application, get_token, tmp_path
):
    application, secret = make_application(name="Fuzzer", scopes=ALL_SCOPES)
    token = get_token(application, secret)
    for _ in range(3):
        make_credential()
    completed = subprocess.run(
        [
            str(SCHEMATHESIS),
            "run",
            f"{live_server.url}/api/schema/",
            "--header",
            f"Authorization: Bearer {token}",
            "--checks",
            CHECKS,
            # Deleting the fuzzer's own application would leave nothing but 401s to test.
            "--exclude-operation-id",
            "applications_destroy",
            "--workers",
            "1",
            # Bounded for the suite; SCHEMATHESIS_MAX_TIME and SCHEMATHESIS_SEED allow longer, other runs.
            "--max-time",
            os.environ.get("SCHEMATHESIS_MAX_TIME", "20"),
            "--seed",
            os.environ.get("SCHEMATHESIS_SEED", "20260101"),
            "--request-timeout",
            "10",
            "--suppress-health-check",
            "all",
            "--report",
            "junit",
            "--report-dir",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=int(os.environ.get("SCHEMATHESIS_MAX_TIME", "20")) + 90,
        cwd=tmp_path,
    )
    assert completed.returncode == 0, completed.stdout[-20000:] + completed.stderr[-5000:]
