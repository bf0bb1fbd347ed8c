"""Screenshots of the applications list, the one-time reveal, the client secrets, the members page and the two-factor
security page for the README.

Starts the portal (python -m ops.serve) on a throwaway SQLite database, fills it through the
management commands and drives Debian's Chromium with Playwright, so every client
secret in the pictures belongs to a database deleted a moment later.

    .venv/bin/python scripts/screenshots.py [--out docs/screenshots]
"""

import argparse
import json
import os
import secrets
import sys
import tempfile
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
# Run as a script, Python puts scripts/ first on the path; the portal's packages import from the root.
sys.path[0] = str(ROOT)

from testing.server import PortalServer, manage  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
ORGANIZATION = "Acme Corp"
USERNAME = "alice"
APPLICATIONS = [
    ("Nightly credential sync", "Copies newly issued credentials to the archive every night.", "read:credentials"),
    (
        "Partner onboarding",
        "Stores the credentials partners submit through the onboarding form.",
        "create:credentials read:organizations",
    ),
    ("Cleanup job", "", "read:credentials delete:credentials"),
]

MEMBERS = [("bob", "bob@example.com"), ("carol", "carol@example.com")]
# Joins as a plain member, the way an accepted invitation leaves someone.
ADD_MEMBER = (
    "from django.contrib.auth import get_user_model; from portal.models import Membership, Organization; "
    "user = get_user_model().objects.create_user('{username}', '{email}'); "
    "Membership.objects.create(user=user, role='member', "
    "organization=Organization.objects.get(name='" + ORGANIZATION + "'))"
)


def rotate(env, application: str, *args) -> str:
    """A new secret for one of the organization's applications, printed as JSON."""
    return manage(env, "rotatesecret", "--organization", ORGANIZATION, "--application", application, *args, "--json")


def issue_token(origin: str, client_id: str, secret: str) -> None:
    # Gives the application a "last used" time, as a working integration would.
    request = urllib.request.Request(
        f"{origin}/oauth/token",
        data=f"grant_type=client_credentials&client_id={client_id}&client_secret={secret}".encode(),
        method="POST",
    )
    urllib.request.urlopen(request, timeout=5).read()


def seed(env, origin: str) -> str:
    password = secrets.token_urlsafe(16)
    manage(
        env,
        "createorgadmin",
        "--organization",
        ORGANIZATION,
        "--username",
        USERNAME,
        "--email",
        "alice@example.com",
        "--password",
        password,
    )
    for username, email in MEMBERS:
        manage(env, "shell", "-v", "0", "-c", ADD_MEMBER.format(username=username, email=email))
    for name, description, scopes in APPLICATIONS:
        created = json.loads(
            manage(
                env,
                "createapplication",
                "--organization",
                ORGANIZATION,
                "--name",
                name,
                "--description",
                description,
                "--scopes",
                scopes,
                "--json",
            )
        )
        if name != "Cleanup job":
            issue_token(origin, created["client_id"], created["client_secret"])
    # A rotation under way: the sync's deployments moved to a new secret while the old one runs out its day.
    rotated = json.loads(rotate(env, "Nightly credential sync", "--expires-in-days", "365"))
    issue_token(origin, rotated["client_id"], rotated["client_secret"])
    # A secret that runs out soon, for the list's mark.
    rotate(env, "Cleanup job", "--keep-current-for", "0", "--expires-in-days", "10")
    return password


def shoot(origin: str, password: str, out: Path) -> None:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(base_url=origin, viewport={"width": 1200, "height": 720})
        page.goto("/accounts/login/")
        page.get_by_label("Username").fill(USERNAME)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url("**/integrations/applications/")
        page.locator("details.menu").first.evaluate("menu => menu.open = true")
        page.screenshot(path=out / "applications-list.png", full_page=True)

        page.goto("/integrations/applications/new/")
        page.get_by_label("Name", exact=True).fill("Billing export")
        page.get_by_role("textbox", name="Description").fill("Reads credentials for the monthly billing run.")
        page.get_by_label("read:credentials").check()
        page.get_by_label("read:organizations").check()
        page.get_by_role("button", name="Create Application").click()
        page.get_by_test_id("client-secret").wait_for()
        page.screenshot(path=out / "reveal.png", full_page=True)

        page.goto("/integrations/applications/")
        page.get_by_role("link", name="Nightly credential sync").first.click()
        page.get_by_test_id("client-secrets").screenshot(path=out / "client-secrets.png")

        page.goto("/organization/members/invite/")
        page.get_by_label("Email").fill("dana@example.com")
        page.get_by_role("button", name="Create invitation").click()
        page.get_by_test_id("invitation-link").wait_for()
        page.goto("/organization/members/")
        page.screenshot(path=out / "members.png", full_page=True)

        # Passkeys need a host name, not an IP address: the security page as it is seen at localhost.
        local = origin.replace("://127.0.0.1:", "://localhost:")
        page.goto(f"{local}/accounts/login/")
        page.get_by_label("Username").fill(USERNAME)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url("**/integrations/applications/")
        page.goto(f"{local}/accounts/security/")
        page.get_by_test_id("totp-secret").wait_for()
        page.screenshot(path=out / "security.png", full_page=True)
        browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    out = parser.parse_args().out
    out.mkdir(parents=True, exist_ok=True)

    with tempfile.TemporaryDirectory() as workdir:
        env = {
            **os.environ,
            "DATABASE_URL": f"sqlite:///{workdir}/db.sqlite3",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "DEBUG": "false",
            "PUBLIC_BASE_URL": "https://portal.example",
            "CACHE_URL": "dbcache://django_cache",
        }
        manage(env, "migrate", "--noinput")
        manage(env, "createcachetable")
        manage(env, "collectstatic", "--noinput", "--verbosity", "0")
        with PortalServer(env=env, workers=2) as server:
            shoot(server.base, seed(env, server.base), out)
    for name in ("applications-list.png", "reveal.png", "client-secrets.png", "members.png", "security.png"):
        print(out / name)


if __name__ == "__main__":
    main()
