"""Verification cost of one client assertion, per JOSE library and algorithm (µs per verify, best of 5 runs).

How the library of applications/oauth/assertions.py was chosen. It needs all three candidates, which the portal
does not install together (PyJWT is none of its dependencies): run it in a virtualenv of its own, for example

    python3 -m venv /tmp/jose && /tmp/jose/bin/pip install jwcrypto==1.6.1 joserfc==1.8.0 pyjwt==2.15.1
    /tmp/jose/bin/python scripts/jose_verify_cost.py
"""

import json
import time
import timeit
import uuid
import warnings
from functools import partial

import jwt as pyjwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from joserfc import jwt as joserfc_jwt
from joserfc.jwk import ECKey, OKPKey, RSAKey
from jwcrypto import jwk as jwcrypto_jwk
from jwcrypto import jwt as jwcrypto_jwt

warnings.filterwarnings("ignore", message="EdDSA is deprecated")

PRIVATE_KEYS = {
    "ES256": lambda: ec.generate_private_key(ec.SECP256R1()),
    "RS256": lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048),
    "EdDSA": ed25519.Ed25519PrivateKey.generate,
}
JOSERFC_KEYS = {"ES256": ECKey, "RS256": RSAKey, "EdDSA": OKPKey}
AUDIENCE = "http://127.0.0.1:8000/oauth/token"


def pyjwt_verify(token, key, alg):
    options = {"require": ["exp", "jti", "iss", "sub", "aud"]}
    pyjwt.decode(token, key, algorithms=[alg], audience=AUDIENCE, leeway=60, options=options)


def joserfc_verify(token, key, alg):
    joserfc_jwt.decode(token, key, algorithms=[alg])


def jwcrypto_verify(token, key, alg):
    json.loads(jwcrypto_jwt.JWT(jwt=token, key=key, algs=[alg], check_claims={"exp": None}).claims)


def main() -> None:
    now = int(time.time())
    claims = {"iss": "c", "sub": "c", "aud": AUDIENCE, "exp": now + 300, "iat": now, "jti": uuid.uuid4().hex}
    for alg, make in PRIVATE_KEYS.items():
        private = make()
        token = pyjwt.encode(claims, private, algorithm=alg)
        pem = private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        cases = {
            "PyJWT 2.15.1": partial(pyjwt_verify, token, private.public_key(), alg),
            "joserfc 1.8.0": partial(joserfc_verify, token, JOSERFC_KEYS[alg].import_key(pem), alg),
            "jwcrypto 1.6.1": partial(jwcrypto_verify, token, jwcrypto_jwk.JWK.from_pem(pem), alg),
        }
        for name, verify in cases.items():
            verify()
            best = min(timeit.repeat(verify, number=2000, repeat=5)) / 2000 * 1e6
            print(f"{alg:6} {name:16} {best:7.1f} µs/verify")


if __name__ == "__main__":
    main()
