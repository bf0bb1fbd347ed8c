"""Ready-to-run snippets for the one-time reveal page and the README: get a token, call GET /api/credentials.

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


@cache
def quickstarts() -> list[dict[str, str]]:
    here = Path(__file__).parent
    return [
        {"slug": slug, "language": language, "filename": filename, "source": (here / source).read_text()}
        for slug, language, filename, source in QUICKSTARTS
    ]
