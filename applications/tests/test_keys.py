"""Public keys as uploaded (contract §10): what is accepted, what is refused, and the thumbprint that names them."""

import json

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.core.exceptions import ValidationError

from applications.keys import KeyRefused, parse_public_key, public_jwk
from applications.models import AuditEvent, PublicKey
from applications.services import (
    MAX_LIVE_KEYS,
    DuplicateKey,
    KeyLimitReached,
    LastLiveCredential,
    add_key,
    revoke_key,
    revoke_secret,
)
from applications.tests.key_helpers import private_key, private_pem, public_pem
from portal.actors import COMMAND_LINE


@pytest.mark.parametrize("kind", ["RS256", "ES256", "EdDSA"])
def test_a_pem_and_its_jwk_are_the_same_key(kind):
    private = private_key(kind)

    from_pem = parse_public_key(public_pem(private))
    from_jwk = parse_public_key(public_jwk(private.public_key()))
    from_jwk_text = parse_public_key(json.dumps({**public_jwk(private.public_key()), "use": "sig"}))

    assert from_pem == from_jwk == from_jwk_text
    assert from_pem.alg == kind


def test_the_kid_is_the_rfc_7638_thumbprint():
    # RFC 7638 §3.1's example key and its thumbprint.
    jwk = {
        "kty": "RSA",
        "n": (
            "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWK"
            "RXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMic"
            "AtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3"
            "XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"
        ),
        "e": "AQAB",
        "alg": "RS256",
    }

    assert parse_public_key(jwk).kid == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"


PRIVATE_FORMS = {
    "PKCS#8": lambda: private_pem(private_key()),
    "SEC1 EC PRIVATE KEY": lambda: private_pem(private_key(), serialization.PrivateFormat.TraditionalOpenSSL),
    "PKCS#1 RSA PRIVATE KEY": lambda: private_pem(private_key("RS256"), serialization.PrivateFormat.TraditionalOpenSSL),
    "OpenSSH": lambda: private_pem(private_key("EdDSA"), serialization.PrivateFormat.OpenSSH),
    "encrypted PKCS#8": lambda: (
        private_key()
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"passphrase"),
        )
        .decode()
    ),
    "a private JWK": lambda: {**public_jwk(private_key().public_key()), "d": "c2VjcmV0LXNjYWxhcg"},
    "a private JWK as text": lambda: json.dumps({**public_jwk(private_key().public_key()), "d": "c2VjcmV0LXNjYWxhcg"}),
    "a symmetric JWK": lambda: {"kty": "oct", "k": "c2hhcmVkLXNlY3JldA"},
    "a PEM private key after a public one": lambda: public_pem(private_key()) + private_pem(private_key()),
}


@pytest.mark.parametrize("form", PRIVATE_FORMS)
def test_a_private_key_is_refused_and_nothing_is_kept(make_application, form):
    application, _ = make_application()
    value = PRIVATE_FORMS[form]()

    with pytest.raises(ValidationError) as refused:
        add_key(application=application, actor=COMMAND_LINE, public_key=value)

    assert "This is a private key" in refused.value.message_dict["public_key"][0]
    assert not PublicKey.objects.exists()


def _certificate() -> str:
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import NameOID

    private = private_key()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "client")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(private.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(private, hashes.SHA256())
    )
    return certificate.public_bytes(serialization.Encoding.PEM).decode()


REFUSED = {
    "RSA 1024": (lambda: public_pem(private_key("RS256", bits=1024)), "This RSA key has 1024 bits"),
    "P-384": (lambda: public_pem(private_key("ES256", curve=ec.SECP384R1())), "on the secp384r1 curve"),
    "a P-384 JWK": (
        lambda: {**public_jwk(private_key().public_key()), "crv": "P-384"},
        "The curve 'P-384' is not accepted",
    ),
    "a certificate": (_certificate, "This is a certificate"),
    "garbage": (lambda: "hello, this is no key", "This is not a public key"),
    "a broken PEM": (
        lambda: "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
        "This is not a public key",
    ),
    "broken JSON": (lambda: '{"kty": "EC", ', "This is not a public key"),
    "a JSON list": (lambda: [1, 2], "This is not a public key"),
    "a point off the curve": (
        lambda: {"kty": "EC", "crv": "P-256", "x": "A" * 43, "y": "A" * 43},
        "does not describe a valid public key",
    ),
    "an HS256 alg on an EC JWK": (
        lambda: {**public_jwk(private_key().public_key()), "alg": "HS256"},
        "alg 'HS256' does not fit its key",
    ),
}


@pytest.mark.parametrize("case", REFUSED)
def test_what_is_no_accepted_public_key_is_refused_naming_the_problem(make_application, case):
    application, _ = make_application()
    make, message = REFUSED[case]

    with pytest.raises(ValidationError) as refused:
        add_key(application=application, actor=COMMAND_LINE, public_key=make())

    assert message in refused.value.message_dict["public_key"][0]
    assert not PublicKey.objects.exists()


def test_refusals_never_quote_what_was_sent():
    secret_looking = "-----BEGIN PUBLIC KEY-----\nTOPSECRETBYTES\n-----END PUBLIC KEY-----"
    with pytest.raises(KeyRefused) as refused:
        parse_public_key(secret_looking)
    assert "TOPSECRET" not in str(refused.value)


def test_the_same_key_twice_is_refused_as_pem_or_jwk(make_application):
    application, _ = make_application()
    private = private_key()
    add_key(application=application, actor=COMMAND_LINE, public_key=public_pem(private))

    with pytest.raises(DuplicateKey):
        add_key(application=application, actor=COMMAND_LINE, public_key=public_jwk(private.public_key()))
    assert PublicKey.objects.count() == 1


def test_the_same_key_in_two_applications_is_allowed(make_application):
    first, _ = make_application(name="First")
    second, _ = make_application(name="Second")
    pem = public_pem(private_key())

    add_key(application=first, actor=COMMAND_LINE, public_key=pem)
    add_key(application=second, actor=COMMAND_LINE, public_key=pem)

    assert PublicKey.objects.count() == 2


def test_an_application_holds_at_most_five_live_keys(make_application):
    application, _ = make_application()
    keys = [
        add_key(application=application, actor=COMMAND_LINE, public_key=public_pem(private_key()))
        for _ in range(MAX_LIVE_KEYS)
    ]

    with pytest.raises(KeyLimitReached):
        add_key(application=application, actor=COMMAND_LINE, public_key=public_pem(private_key()))
    revoke_key(key=keys[0], actor=COMMAND_LINE)
    add_key(application=application, actor=COMMAND_LINE, public_key=public_pem(private_key()))
    assert PublicKey.objects.filter(revoked_at__isnull=True).count() == MAX_LIVE_KEYS


def test_the_last_live_credential_cannot_be_revoked_whatever_its_kind(make_application):
    application, _ = make_application()
    secret = application.secrets.get()
    key = add_key(application=application, actor=COMMAND_LINE, public_key=public_pem(private_key()))

    # The only live secret may go while a key remains ...
    revoke_secret(secret=secret, actor=COMMAND_LINE)
    # ... and then the key is the last live credential.
    with pytest.raises(LastLiveCredential):
        revoke_key(key=key, actor=COMMAND_LINE)
    key.refresh_from_db()
    assert key.revoked_at is None


def test_adding_generating_and_revoking_keys_is_in_the_history(make_application):
    from applications.services import generate_key

    application, _ = make_application()
    added = add_key(application=application, actor=COMMAND_LINE, public_key=public_pem(private_key()))
    generate_key(application=application, actor=COMMAND_LINE)
    revoke_key(key=added, actor=COMMAND_LINE, revoke_tokens=False)

    events = AuditEvent.objects.filter(application=application).order_by("created_at", "id")
    actions = [event.action for event in events]
    assert actions[-3:] == ["key_added", "key_generated", "key_revoked"]
    assert events.last().changes == {"key": added.kid, "tokens_revoked": None}
