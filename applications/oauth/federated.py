"""Workload tokens (contract §10, federated credentials): the token an OpenID Connect issuer gave a workload (a GitHub
Actions job, a GitLab CI job, a Kubernetes pod), matched exactly against an application's live federated credentials
and verified with a key the issuer publishes.

The same rules serve the token endpoint (`verified_credential`, then `accept_once`) and the admins' "Test a token"
page (`findings`), which says which rule held and which did not, issues nothing and claims no jti.
"""

from dataclasses import dataclass

from django.views.decorators.debug import sensitive_variables

from applications import issuers
from applications.oauth import assertions
from applications.oauth.assertions import LEEWAY, MAX_JTI_LENGTH, AssertionRefused
from throttle import once


@dataclass(frozen=True)
class Finding:
    rule: str
    held: bool
    detail: str


def _quoted(value) -> str:
    return f"“{value}”" if isinstance(value, str) else "missing" if value is None else f"not a string ({value!r:.60})"


def _audiences(claims: dict) -> list[str]:
    audience = claims.get("aud")
    named = [audience] if isinstance(audience, str) else audience if isinstance(audience, list) else []
    return [value for value in named if isinstance(value, str)]


def _expiry(claims: dict, now: float) -> Finding:
    try:
        expires, not_before = assertions.number(claims, "exp"), assertions.number(claims, "nbf")
        issued = assertions.number(claims, "iat")
    except AssertionRefused as refused:
        return Finding("expiry", False, f"The token's {refused}.")
    if expires is None:
        return Finding("expiry", False, "The token has no exp: a token that never expires is refused.")
    if expires <= now - LEEWAY:
        return Finding("expiry", False, f"The token expired {int(now - expires)} seconds ago.")
    if not_before is not None and not_before > now + LEEWAY:
        return Finding("expiry", False, f"The token is not valid for another {int(not_before - now)} seconds (nbf).")
    if issued is not None and issued > now + LEEWAY:
        return Finding("expiry", False, "The token was issued in the future (iat): check the clocks.")
    return Finding("expiry", True, f"The token expires in {int(expires - now)} seconds.")


def _compared(rule: str, claim: str, value, expected: str, *, note: str = "") -> Finding:
    if value == expected:
        return Finding(rule, True, f"The token's {claim} is {_quoted(value)}.")
    return Finding(rule, False, f"The token's {claim} is {_quoted(value)}; the credential's is “{expected}”{note}.")


def claim_findings(claims: dict, credential, now: float) -> list[Finding]:
    """The rules that need no key, for one credential: iss, sub and aud match exactly, and the token is in date."""
    audiences = _audiences(claims)
    said = ", ".join(map(_quoted, audiences)) or _quoted(claims.get("aud"))
    if credential.audience in audiences:
        audience = Finding("audience", True, f"The token's aud is {said}.")
    else:
        audience = Finding("audience", False, f"The token's aud is {said}; it must be or hold “{credential.audience}”.")
    return [
        _compared("issuer", "iss", claims.get("iss"), credential.issuer),
        _compared("subject", "sub", claims.get("sub"), credential.subject, note=" (compared exactly: no wildcards)"),
        audience,
        _expiry(claims, now),
    ]


def _signed_claims(token: str, header, issuer: str) -> dict:
    """The claims, once a key the issuer publishes verifies the signature; AssertionRefused otherwise.

    KeysUnavailable when no keys of the issuer are kept and none can be fetched.
    """
    keys = issuers.issuer_keys(issuer, kid=header.kid)
    _, claims = assertions.verified_key(token, keys)
    return claims


@sensitive_variables()
def verified_credential(token: str, credentials: list, *, now: float):
    """(the live credential among `credentials` the workload's token matches, its jti or None, until when the jti
    must stay claimed); AssertionRefused when none matches, KeysUnavailable when the issuer's keys cannot be had.

    The rules that need no key come first, so that a token no credential would take fetches nothing.
    """
    header, claims = assertions.read_unverified(token)

    def matching(claims):
        return [
            credential
            for credential in credentials
            if credential.is_live() and all(finding.held for finding in claim_findings(claims, credential, now))
        ]

    candidates = matching(claims)
    if not candidates:
        raise AssertionRefused("no live federated credential matches its iss, sub, aud and exp")
    signed = _signed_claims(token, header, candidates[0].issuer)
    # What was signed decides, read by the library that verified it.
    matched = matching(signed)
    if not matched:
        raise AssertionRefused("the signed claims match no live federated credential")
    jti = signed.get("jti")
    if jti is not None and (not isinstance(jti, str) or not jti or len(jti) > MAX_JTI_LENGTH):
        raise AssertionRefused("unusable jti")
    return matched[0], jti, assertions.number(signed, "exp") + LEEWAY


def accept_once(*, issuer: str, jti: str, until: float) -> None:
    """Claim a workload token's jti until the token can no longer be accepted: once per issuer, whichever application
    it is traded at. Raises once.Unavailable when the store cannot say (the caller refuses)."""
    if not once.claim_once(f"federated-jti\x00{issuer}\x00{jti}", until=until):
        raise AssertionRefused("jti already used")


@sensitive_variables()
def findings(token: str, credential, *, now: float) -> list[Finding]:
    """Each rule of contract §10 for one credential, held or not, with what the token says: for an admin finding out
    why a workload's token is refused. Issues nothing and claims no jti; fetches the keys as verification does."""
    try:
        header, claims = assertions.read_unverified(token)
    except AssertionRefused as refused:
        if str(refused) == "not a compact JWS":
            return [Finding("token", False, "This is not a JWT (three base64url parts joined by dots).")]
        return [Finding("token", False, f"This token cannot be read: {refused}.")]
    # The signature last, as verification checks it: the only rule that may fetch the issuer's keys.
    found = claim_findings(claims, credential, now)
    try:
        _signed_claims(token, header, credential.issuer)
    except issuers.KeysUnavailable:
        found.append(Finding("signature", False, f"The keys of {credential.issuer} cannot be had now; try again."))
    except AssertionRefused as refused:
        found.append(Finding("signature", False, _signature_problem(str(refused), header)))
    else:
        found.append(Finding("signature", True, f"A key {credential.issuer} publishes verifies the signature."))
    return found


def _signature_problem(reason: str, header) -> str:
    if reason == "unknown kid":
        return f"The issuer publishes no key with the token's kid “{header.kid}”."
    if reason.startswith("no live key verifies"):
        return f"None of the issuer's keys verifies {header.alg[:16]!r} (RS256, PS256, ES256 or EdDSA, by key type)."
    if reason == "crit header":
        return "The token's header has a crit member, which is refused."
    return "No key the issuer publishes verifies the signature."
