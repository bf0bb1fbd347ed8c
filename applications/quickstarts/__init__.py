"""Ready-to-run snippets for the one-time reveal pages and the README: get a token, call GET /api/credentials; and
get a token with a key pair (the reveal of a generated key).

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
