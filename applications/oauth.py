"""The OAuth 2.0 wiring around django-oauth-toolkit: secret hasher, scopes backend,
client-credentials server, validator and the request backend of the token, revocation and
introspection endpoints."""

import base64
import binascii
import hashlib
import json
import re
from urllib.parse import parse_qsl, unquote_plus, urlsplit

from django.conf import settings
from django.db import IntegrityError, connections, router
from django.contrib.auth.hashers import BasePasswordHasher, mask_hash
from django.utils.crypto import constant_time_compare
from oauth2_provider.models import get_access_token_model, get_application_model
from oauth2_provider.oauth2_backends import OAuthLibCore
from oauth2_provider.oauth2_validators import OAuth2Validator
from oauth2_provider.scopes import BaseScopes
from oauthlib.common import urlencode
from oauthlib.oauth2 import BackendApplicationServer, OAuth2Error
from oauthlib.oauth2.rfc6749 import errors

from applications import scopes as catalog
from applications.services import record_lockout, record_use
from portal.models import Organization
from portal.origin import public_origin, token_audience
from portal.throttle import Limit, record_failure, retry_after

PER_CLIENT = Limit("token-client", "TOKEN_PER_CLIENT")
PER_ADDRESS = Limit("token-address", "TOKEN_PER_ADDRESS")


class ClientSecretHasher(BasePasswordHasher):
    """Salted SHA-256 for client secrets.

    Secrets are machine-generated with far more than 256 bits of entropy, so key
    stretching protects nothing and would only cap grants per second and hand an
    attacker a cheap way to burn CPU with wrong secrets.
    """

    algorithm = "sha256_salted"

    def encode(self, password, salt):
        self._check_encode_args(password, salt)
        digest = hashlib.sha256(f"{salt}{password}".encode()).hexdigest()
        return f"{self.algorithm}${salt}${digest}"

    def decode(self, encoded):
        algorithm, salt, digest = encoded.split("$", 2)
        assert algorithm == self.algorithm
        return {"algorithm": algorithm, "hash": digest, "salt": salt}

    def verify(self, password, encoded):
        salt = self.decode(encoded)["salt"]
        return constant_time_compare(encoded, self.encode(password, salt))

    def safe_summary(self, encoded):
        decoded = self.decode(encoded)
        return {"algorithm": decoded["algorithm"], "salt": mask_hash(decoded["salt"]), "hash": mask_hash(decoded["hash"])}

    def must_update(self, encoded):
        return False

    def harden_runtime(self, password, encoded):
        pass


class ApplicationScopes(BaseScopes):
    """An application may ask for its own scopes, and gets all of them when it asks for none."""

    def get_all_scopes(self):
        return catalog.SCOPES

    def get_available_scopes(self, application=None, request=None, *args, **kwargs):
        return application.scope_list if application is not None else list(catalog.SCOPES)

    def get_default_scopes(self, application=None, request=None, *args, **kwargs):
        return self.get_available_scopes(application, request)


def _basic_client_id(request) -> str | None:
    """The client ID of an HTTP Basic Authorization header, or None when there is none or it is unreadable."""
    scheme, _, credentials = (request.headers.get("Authorization") or "").partition(" ")
    if scheme != "Basic":
        return None
    try:
        decoded = base64.b64decode(credentials, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    client_id, separator, _ = decoded.partition(":")
    return unquote_plus(client_id) if separator else None


def reject_conflicting_client_ids(request):
    # oauthlib answers this with a server_error; RFC 6749 §5.2 calls it invalid_request.
    basic_client_id = _basic_client_id(request)
    body_client_id = request.client_id
    if basic_client_id is not None and body_client_id and body_client_id != basic_client_id:
        raise errors.InvalidRequestError(
            description="client_id in the body does not match the HTTP Basic credentials.", request=request
        )


def _issuer(request) -> str:
    # The backend hands oauthlib the public origin (PUBLIC_BASE_URL, else the request's) as the URI's base.
    parts = urlsplit(request.uri)
    return f"{parts.scheme}://{parts.netloc}"


def check_audience(request):
    audience = getattr(request, "audience", None)
    if audience is None:
        return
    expected = token_audience(_issuer(request))
    if audience != expected:
        raise errors.CustomOAuth2Error(
            error="invalid_target",
            description=f"audience must be {expected}.",
            status_code=400,
            request=request,
        )


class ClientCredentialsServer(BackendApplicationServer):
    """Only the client credentials grant: no other grant's code path is reachable."""

    def __init__(self, request_validator, *args, **kwargs):
        kwargs.pop("pre_token", None)  # the toolkit's device-flow hook; no device flow here
        super().__init__(request_validator, *args, **kwargs)
        self.credentials_grant.custom_validators.pre_token.append(reject_conflicting_client_ids)
        self.credentials_grant.custom_validators.post_token.append(check_audience)

    def validate_revocation_request(self, request):
        self._validate_client_token_request(request)

    def validate_introspect_request(self, request):
        self._validate_client_token_request(request)

    def _validate_client_token_request(self, request):
        """Revocation and introspection: the client authenticates first, and token_type_hint is never checked.

        oauthlib checks for the token before the client, so a wrong secret without a token would
        escape the brute-force count, and it refuses hints it knows but the server does not
        support ("refresh_token"); RFC 7009 §2.1 and RFC 7662 §2.1 make the hint a hint only.
        """
        self._raise_on_bad_method(request)
        self._raise_on_bad_post_request(request)
        # RFC 6749 §3.2: no parameter more than once (oauthlib checks this for grants only).
        repeated = sorted(set(request.duplicate_params) & {"token", "token_type_hint", "client_id", "client_secret"})
        if repeated:
            raise errors.InvalidRequestError(description=f"Duplicate {', '.join(repeated)} parameter.", request=request)
        reject_conflicting_client_ids(request)
        self._raise_on_invalid_client(request)
        self._raise_on_missing_token(request)


# --- Lean reads for the hot paths --------------------------------------------


class RowQuery:
    """One hand-written SELECT by a unique key whose row becomes model instances, converted as the ORM would.

    The ORM compiles a query anew on every call, and on the token endpoint and every API
    request that compiling cost more than the query itself. The SQL and the value converters
    are built here once per database from the models' metadata; the rows are read fresh on
    every call, so nothing about a token or an application is remembered between requests.
    """

    def __init__(self, parts, tail):
        # parts: (model, table alias, attnames to load or None for all); tail: FROM/WHERE with
        # {alias.attname} placeholders for quoted columns and {alias} for quoted tables.
        self.parts = [
            (model, alias, [f for f in model._meta.concrete_fields if attnames is None or f.attname in attnames])
            for model, alias, attnames in parts
        ]
        self.tail = tail
        self.compiled = {}

    def _compile(self, using):
        connection = connections[using]
        qn = connection.ops.quote_name
        names = {}
        for model, alias, _ in self.parts:
            names[alias] = f"{qn(model._meta.db_table)} {qn(alias)}"
            for f in model._meta.concrete_fields:
                names[f"{alias}.{f.attname}"] = f"{qn(alias)}.{qn(f.column)}"
        columns, converters = [], []
        for model, alias, fields in self.parts:
            for f in fields:
                columns.append(names[f"{alias}.{f.attname}"])
                col = f.get_col(alias)
                converters.append([(c, col) for c in [*connection.ops.get_db_converters(col), *f.get_db_converters(connection)]])
        sql = f"SELECT {', '.join(columns)} " + re.sub(r"\{([\w.]+)\}", lambda m: names[m.group(1)], self.tail)
        self.compiled[using] = (sql, converters)
        return self.compiled[using]

    def fetch(self, *params):
        """The instances of the one matching row, in the order of `parts`; None when no row matches."""
        using = router.db_for_read(self.parts[0][0])
        sql, converters = self.compiled.get(using) or self._compile(using)
        connection = connections[using]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            row = cursor.fetchone()
        if row is None:
            return None
        values = []
        for value, steps in zip(row, converters):
            for convert, col in steps:
                value = convert(value, col, connection)
            values.append(value)
        instances, start = [], 0
        for model, _, fields in self.parts:
            end = start + len(fields)
            instances.append(model.from_db(using, [f.attname for f in fields], values[start:end]))
            start = end
        return instances


_application_by_client_id = RowQuery(
    [(get_application_model(), "a", None)],
    "FROM {a} WHERE {a.client_id} = %s",
)

# What an API request reads of its token: validity and scope, the application it records use
# on, and the organization it is scoped to. Other fields load on first access, if ever.
_token_by_checksum = RowQuery(
    [
        (get_access_token_model(), "t", {"id", "user_id", "application_id", "expires", "created", "scope", "resource"}),
        (get_application_model(), "a", {"id", "client_id", "name", "organization_id", "last_used_at"}),
        (Organization, "o", None),
    ],
    "FROM {t} INNER JOIN {a} ON {a.id} = {t.application_id} INNER JOIN {o} ON {o.id} = {a.organization_id} "
    "WHERE {t.token_checksum} = %s",
)


def token_checksum(token: str) -> str:
    # RFC 9700 token storage keeps only the SHA-256 checksum of each token; surrogatepass lets a
    # string plain UTF-8 cannot encode hash to a checksum no stored token has, instead of raising.
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def active_access_token(token: str):
    """The unexpired access token with this value, with its application and organization, in one indexed query.

    Read from the database on every call: a revoked token (its row deleted) or a deleted
    application (its tokens deleted with it) fails on the very next request, in every process.
    """
    if not token:
        return None
    found = _token_by_checksum.fetch(token_checksum(token))
    if found is None:
        return None
    access_token, application, organization = found
    application.organization = organization
    access_token.application = application
    return None if access_token.is_expired() else access_token


class ApplicationValidator(OAuth2Validator):
    def _load_application(self, client_id, request):
        cached = request.client
        if isinstance(cached, get_application_model()) and cached.client_id == client_id and cached.is_usable(request):
            return cached
        try:
            found = _application_by_client_id.fetch(client_id)
        except ValueError:  # a NUL byte PostgreSQL refuses to send: no client has it
            found = None
        client = found[0] if found else None
        if client is None or client.registration_source == client.RegistrationSource.CIMD:
            # Unknown client IDs and metadata-document clients take the toolkit's own path.
            request.client = None
            return super()._load_application(client_id, request)
        if not client.is_usable(request):
            return None
        request.client = client
        return client

    def save_bearer_token(self, token, request, *args, **kwargs):
        try:
            if "refresh_token" in token:
                super().save_bearer_token(token, request, *args, **kwargs)
            else:
                # Client credentials store one row; its INSERT is atomic by itself, and the
                # toolkit's transaction around it would only add a BEGIN and a COMMIT.
                self._save_bearer_token(token, request, *args, **kwargs)
        except IntegrityError:
            # The application was deleted between authenticating and storing the token:
            # it issues no token after its deletion commits.
            raise errors.InvalidClientError(request=request)
        record_use(request.client)

    def introspect_token(self, token, token_type_hint, request, *args, **kwargs):
        """The RFC 7662 claims of an active token issued to the calling client; None for any other token.

        The toolkit leaves this unimplemented. Another client's token answers as an unknown one
        would, so no client learns anything about tokens it was not issued.
        """
        access_token = active_access_token(token)
        if access_token is None or access_token.application_id != request.client.pk:
            return None
        return {
            "scope": access_token.scope,
            "client_id": request.client.client_id,
            "token_type": "Bearer",
            "exp": int(access_token.expires.timestamp()),
            "iat": int(access_token.created.timestamp()),
            "iss": _issuer(request),
        }

    def revoke_token(self, token, token_type_hint, request, *args, **kwargs):
        # Only the calling client's own token, whatever the hint: another client's token, an unknown
        # or an already revoked one changes nothing, and the answer is 200 all the same (RFC 7009 §2.2).
        # No refresh tokens are issued here, so the access token's row is all there is to delete.
        get_access_token_model().objects.filter(
            token_checksum=token_checksum(token), application_id=request.client.pk
        ).delete()


class MalformedTokenRequest(Exception):
    pass


def parse_token_body(request) -> list[tuple[str, str]]:
    """The token request's parameters from a form-encoded or JSON body, strictly decoded."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise MalformedTokenRequest("Content-Length is not a number.")
    if length > settings.TOKEN_REQUEST_MAX_BYTES:
        raise MalformedTokenRequest("The request body is too large.")
    body = request.body
    if not body:
        return []
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedTokenRequest("The request body is not UTF-8.")

    if request.content_type == "application/x-www-form-urlencoded":
        try:
            params = parse_qsl(text, keep_blank_values=True, errors="strict", max_num_fields=50)
        except (UnicodeDecodeError, ValueError):
            raise MalformedTokenRequest("The request body is not valid form encoding.")
    elif request.content_type == "application/json":
        try:
            data = json.loads(text)
        except ValueError:
            raise MalformedTokenRequest("The request body is not valid JSON.")
        if not isinstance(data, dict):
            raise MalformedTokenRequest("The JSON body must be an object.")
        if not all(isinstance(value, str) for value in data.values()):
            raise MalformedTokenRequest("Every JSON field must be a string.")
        params = list(data.items())
    else:
        raise MalformedTokenRequest("Send application/x-www-form-urlencoded or application/json.")

    if any("\x00" in key or "\x00" in value for key, value in params):
        raise MalformedTokenRequest("The request contains a NUL character.")
    try:
        # JSON's \ud800 escapes decode to lone surrogates, which no UTF-8 text can hold.
        for key, value in params:
            key.encode("utf-8"), value.encode("utf-8")
    except UnicodeEncodeError:
        raise MalformedTokenRequest("The request contains an unpaired surrogate escape.")
    return [_normalise(key, value) for key, value in params if not (key == "scope" and not value.split())]


def _normalise(key: str, value: str) -> tuple[str, str]:
    # oauthlib splits scope on single spaces only: collapse runs of whitespace first.
    return (key, " ".join(value.split())) if key == "scope" else (key, value)


class TokenRequestBackend(OAuthLibCore):
    """Token requests in form or JSON bodies; bearer checks read only the Authorization header."""

    def extract_body(self, request):
        return []

    def create_token_response(self, request):
        return self._respond(request, self.server.create_token_response)

    def create_revocation_response(self, request):
        return self._respond(request, self.server.create_revocation_response)

    def create_introspect_response(self, request):
        return self._respond(request, self.server.create_introspect_response)

    def _respond(self, request, endpoint):
        """One path for the token, revocation and introspection endpoints: the same strict body
        parsing, and failed client authentications at any of them count toward the same limits."""
        try:
            params = parse_token_body(request)
        except MalformedTokenRequest as error:
            failure = errors.InvalidRequestError(description=str(error))
            return None, failure.headers, failure.json, failure.status_code

        client_id = _basic_client_id(request) or dict(params).get("client_id")
        checks = [(PER_ADDRESS, request.META.get("REMOTE_ADDR", ""))]
        if client_id:
            checks.append((PER_CLIENT, client_id))
        wait = retry_after(checks)
        if wait:
            # Locked out: even a correct secret fails until the window ends.
            body = json.dumps(
                {"error": "too_many_attempts", "error_description": f"Too many failed client authentications; retry in {wait} seconds."}
            )
            return None, {"Retry-After": str(wait)}, body, 429

        uri, http_method, _, headers = self._extract_params(request)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            headers, body, status = endpoint(public_origin(request) + uri, http_method, urlencode(params), headers)
        except OAuth2Error as error:
            headers, body, status = error.headers, error.json, error.status_code
        if status == 401 and PER_CLIENT in record_failure(checks):
            record_lockout(client_id=client_id, address=request.META.get("REMOTE_ADDR"))
        return None, headers, body, status
