import re
import zlib

import pytest

from applications import identifiers
from applications.identifiers import (
    checksum,
    generate_access_token,
    generate_client_secret,
    is_well_formed,
    refused_without_hashing,
)

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def reference_checksum(text: str) -> str:
    # Contract §6 written out independently: CRC32 in base 62, most significant first, padded to 6.
    value, digits = zlib.crc32(text.encode("ascii")), ""
    for _ in range(6):
        value, remainder = divmod(value, 62)
        digits = ALPHABET[remainder] + digits
    assert value == 0
    return digits


@pytest.mark.parametrize("generate, prefix", [(generate_client_secret, "ipcs_"), (generate_access_token, "ipat_")])
def test_secrets_and_tokens_follow_the_contract_format(generate, prefix):
    for _ in range(200):
        value = generate()
        assert len(value) == 54
        assert re.fullmatch(rf"{prefix}[0-9A-Za-z]{{49}}", value)
        assert re.search(r"\bipcs_[0-9A-Za-z]{49}\b", f"leaked: {value}.") or prefix != "ipcs_"
        assert value[-6:] == reference_checksum(value[:-6])
        assert is_well_formed(value, prefix)


def test_the_random_part_uses_the_whole_alphabet():
    seen = set("".join(generate_client_secret()[5:48] for _ in range(200)))
    assert seen == set(ALPHABET)


def test_every_character_is_equally_likely():
    from collections import Counter

    counts = Counter("".join(generate_client_secret()[5:48] for _ in range(2000)))
    expected = 2000 * 43 / 62  # about 1387; a byte-modulo bias would give 8 characters a quarter more
    assert all(abs(counts[character] - expected) < 200 for character in ALPHABET), counts


def test_small_checksums_are_left_padded_with_zeros(monkeypatch):
    monkeypatch.setattr(identifiers.zlib, "crc32", lambda data: 61)
    assert checksum("anything") == "00000z"


def test_the_checksum_of_a_known_value():
    # 2355646868 = 2·62^5 + 35·62^4 + 26·62^3 + 3·62^2 + 22·62 + 20 → digits 2 Z Q 3 M K
    assert zlib.crc32(b"ipcs_") == 2355646868
    assert 2 * 62**5 + 35 * 62**4 + 26 * 62**3 + 3 * 62**2 + 22 * 62 + 20 == 2355646868
    assert checksum("ipcs_") == reference_checksum("ipcs_") == "2ZQ3MK"


@pytest.mark.parametrize(
    "mangle",
    [
        lambda s: s[:-1] + ("A" if s[-1] != "A" else "B"),  # last checksum character
        lambda s: s[:10] + ("x" if s[10] != "x" else "y") + s[11:],  # one random character
        lambda s: s[:-1],  # too short
        lambda s: s + "0",  # too long
        lambda s: s[:20] + "-" + s[21:],  # outside the alphabet
    ],
)
def test_a_broken_ipcs_secret_is_refused_without_hashing(mangle):
    secret = generate_client_secret()
    assert not refused_without_hashing(secret)
    assert refused_without_hashing(mangle(secret))


def test_secrets_of_the_old_format_are_left_to_the_hash_check():
    from oauth2_provider.generators import generate_client_secret as old_generator

    assert not refused_without_hashing(old_generator())


def _readme_check_command() -> str:
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    line = next(line.strip() for line in readme.splitlines() if line.strip().startswith("python3 -c 'import sys, zlib"))
    return line


@pytest.mark.parametrize("valid", [True, False])
def test_the_readmes_one_line_check_tells_a_real_secret_from_a_mistyped_one(valid):
    import os
    import subprocess

    secret = generate_client_secret()
    if not valid:
        secret = secret[:-1] + ("A" if secret[-1] != "A" else "B")
    result = subprocess.run(
        ["bash", "-c", _readme_check_command()],
        env={**os.environ, "CLIENT_SECRET": secret},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ("checksum ok" if valid else "not a valid secret")


def test_the_readmes_grep_pattern_finds_secrets_and_tokens(tmp_path):
    import subprocess

    secret, token = generate_client_secret(), generate_access_token()
    (tmp_path / "config.yml").write_text(f"client_secret: {secret}\ntoken={token};\nipcs_tooshort\n")
    found = subprocess.run(
        ["grep", "-rEo", r"\bip(cs|at)_[0-9A-Za-z]{49}\b", str(tmp_path)], capture_output=True, text=True
    ).stdout
    assert sorted(line.split(":", 1)[1] for line in found.split()) == sorted([secret, token])
