"""Ready-to-run snippets for the one-time reveal pages and the README: get a token, call GET /api/credentials; get a
token with a key pair (the reveal of a generated key); and a GitHub Actions job that trades its OIDC token for one
(the page that adds a federated credential).

Each reads the variables of the downloaded `.env` file; the files here are the one copy, and a test runs them.
"""

from functools import cache
from pathlib import Path

QUICKSTARTS = [
    # (slug, language shown, file name a user saves it as, source file here)
    ("curl", "Shell (curl)", "quickstart.sh", "curl.sh"),
    ("python", "Python (requests-oauthlib)", "quickstart.py", "python.py"),
    ("node", "Node.js (built-in fetch)", "quickstart.mjs", "node.mjs"),
]


# Signing in with a key pair (contract §10): each reads the private key's PEM file and gets a token.
KEY_QUICKSTARTS = [
    ("key-python", "Python (Authlib's PrivateKeyJWT)", "quickstart_key.py", "key_python.py"),
    ("key-node", "Node.js (built-in crypto and fetch)", "quickstart-key.mjs", "key_node.mjs"),
]


def _read(entries) -> list[dict[str, str]]:
    here = Path(__file__).parent
    return [
        {"slug": slug, "language": language, "filename": filename, "source": (here / source).read_text()}
        for slug, language, filename, source in entries
    ]


@cache
def quickstarts() -> list[dict[str, str]]:
    return _read(QUICKSTARTS)


@cache
def key_quickstarts() -> list[dict[str, str]]:
    return _read(KEY_QUICKSTARTS)


# The README shows the job with these placeholders; the page that adds a federated credential, with the application's
# client ID and the portal's own origin in their place.
PLACEHOLDER_CLIENT_ID = "YOUR_CLIENT_ID"
PLACEHOLDER_ORIGIN = "https://portal.example"


@cache
def _github_actions_source() -> str:
    return (Path(__file__).parent / "github_actions.yml").read_text()


def github_actions_job(*, client_id: str = PLACEHOLDER_CLIENT_ID, origin: str = PLACEHOLDER_ORIGIN) -> str:
    """The GitHub Actions job (a workflow's `jobs:`), ready to copy for the application at `origin`."""
    return _github_actions_source().replace(PLACEHOLDER_CLIENT_ID, client_id).replace(PLACEHOLDER_ORIGIN, origin)
