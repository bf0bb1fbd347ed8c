import logging
from datetime import timedelta
from urllib.parse import urlsplit

from django.contrib.auth.hashers import check_password
from django.db import IntegrityError, connections, router, transaction
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables
from oauth2_provider.models import get_access_token_model, set_token_value
from oauth2_provider.oauth2_validators import OAuth2Validator
from oauthlib.oauth2.rfc6749 import errors

from applications.identifiers import refused_without_hashing
from applications.issuers import KeysUnavailable
from applications.models import ClientSecret, FederatedCredential, IssuedToken, PublicKey
from applications.oauth import assertions, federated
from applications.oauth.authentication import ClientAuthentication, ClientCredentials
from applications.oauth.endpoints import token_endpoint
from applications.oauth.reads import (
    application_and_federated_credentials,
    application_and_keys,
    application_and_secrets,
    introspected_token,
    token_checksum,
)
from applications.oauth.server import issuer
from applications.services import record_use
from throttle import once

logger = logging.getLogger(__name__)


def record_issued_token(access_token_id: int, credential: ClientSecret | PublicKey | FederatedCredential) -> bool:
    """Record the credential the token was issued with, unless it was revoked meanwhile; False then.

    One hand-written statement, as the reads are. The credential's row is read with a share lock where
    the database has one: a revocation committing between this client's authentication and here
    is seen (no token escapes "revoke with its tokens"), and one still running waits for this.
    """
    using = router.db_for_write(IssuedToken)
    connection = connections[using]
    qn = connection.ops.quote_name
    token_column = qn(IssuedToken._meta.get_field("access_token").column)
    credential_column = qn(IssuedToken._meta.get_field(IssuedToken.CREDENTIAL_FIELDS[type(credential)]).column)
    credentials = type(credential)._meta
    pk, revoked_at = qn(credentials.pk.column), qn(credentials.get_field("revoked_at").column)
    lock = " FOR SHARE" if connection.features.has_select_for_update else ""
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {qn(IssuedToken._meta.db_table)} ({token_column}, {credential_column}) "
            f"SELECT %s, {pk} FROM {qn(credentials.db_table)} WHERE {pk} = %s AND {revoked_at} IS NULL{lock}",
            [access_token_id, credential.pk],
        )
        return cursor.rowcount == 1


def delete_access_token(*, checksum: str, application_id: int) -> None:
    """Delete the application's access token with this checksum, and the record of the secret it was issued with.

    Two hand-written DELETEs in one transaction where the ORM's delete reads the whole token first,
    then clears every table that may point at it, one statement each. The only other rows that could,
    refresh tokens, are never issued here.
    """
    tokens, issued = get_access_token_model()._meta, IssuedToken._meta
    using = router.db_for_write(IssuedToken)
    connection = connections[using]
    qn = connection.ops.quote_name
    own = f"{qn(tokens.get_field('token_checksum').column)} = %s AND {qn(tokens.get_field('application').column)} = %s"
    with transaction.atomic(using=using, savepoint=False), connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {qn(issued.db_table)} WHERE {qn(issued.pk.column)} IN "
            f"(SELECT {qn(tokens.pk.column)} FROM {qn(tokens.db_table)} WHERE {own})",
            [checksum, application_id],
        )
        cursor.execute(f"DELETE FROM {qn(tokens.db_table)} WHERE {own}", [checksum, application_id])


@sensitive_variables()
def matching_secret(secret: str, unrevoked: list[ClientSecret]) -> ClientSecret | None:
    """The live secret among `unrevoked` that `secret` is; None when it is none of them."""
    if refused_without_hashing(secret):
        # An `ipcs_` secret with a broken checksum: no stored hash can match, so none is computed.
        return None
    now = timezone.now()
    matched = None
    # Every live secret is checked, so the time taken does not tell which one matched.
    for row in unrevoked:
        if row.is_live(now) and check_password(secret, row.secret_hash) and matched is None:
            matched = row
    return matched


class ClaimStoreUnavailable(errors.TemporarilyUnavailableError):
    """An assertion's jti cannot be checked for replay (Redis down): refused, and not counted as a failure."""

    description = "Client assertions cannot be checked now; retry shortly."
    status_code = 503

    @property
    def headers(self):
        return {**super().headers, "Retry-After": "2"}


def _audiences(request) -> set[str]:
    """What an assertion's aud may name (contract §10): the issuer, the token endpoint, the endpoint called."""
    origin = issuer(request)
    parts = urlsplit(request.uri)
    return {origin, token_endpoint(origin), f"{parts.scheme}://{parts.netloc}{parts.path}"}


@sensitive_variables()
def asserted_key(request, credentials: ClientCredentials, application, keys: list[PublicKey]) -> PublicKey | None:
    """The live key whose private key signed the request's assertion, which holds every rule of contract §10 and
    was not used before; None otherwise. Fails closed: the replay store away answers 503, never a token."""
    now = timezone.now()
    try:
        key, claims = assertions.verified_key(credentials.client_assertion, [k for k in keys if k.is_live(now)])
        jti, until = assertions.check_claims(
            claims, client_id=application.client_id, audiences=_audiences(request), now=now.timestamp()
        )
        assertions.accept_once(client_id=application.client_id, jti=jti, until=until)
    except assertions.AssertionRefused as refused:
        logger.info("Client assertion refused for client %s: %s", application.client_id, refused)
        return None
    except once.Unavailable:
        raise ClaimStoreUnavailable(request=request)
    return key


class IssuerKeysUnavailable(errors.TemporarilyUnavailableError):
    """A workload's token matches a federated credential, but no keys of its issuer are kept and none can be fetched
    now: refused, and not counted as a failure (contract §10)."""

    description = "The keys of the token's issuer cannot be had now; retry shortly."
    status_code = 503

    def __init__(self, *, retry_after: int, **kwargs):
        super().__init__(**kwargs)
        self.retry_after = retry_after

    @property
    def headers(self):
        return {**super().headers, "Retry-After": str(self.retry_after)}


@sensitive_variables()
def federated_credential_of(request, credentials: ClientCredentials, application, candidates):
    """The live federated credential the request's workload token matches, its signature verified and its jti (when
    it has one) not used before; None otherwise. 503 when the issuer's keys or the replay store cannot be had."""
    try:
        credential, jti, until = federated.verified_credential(
            credentials.client_assertion, candidates, now=timezone.now().timestamp()
        )
        if jti is not None:
            federated.accept_once(issuer=credential.issuer, jti=jti, until=until)
    except assertions.AssertionRefused as refused:
        logger.info("Workload token refused for client %s: %s", application.client_id, refused)
        return None
    except KeysUnavailable as unavailable:
        raise IssuerKeysUnavailable(request=request, retry_after=unavailable.retry_after)
    except once.Unavailable:
        raise ClaimStoreUnavailable(request=request)
    return credential


@sensitive_variables()
def secret_of(request, credentials: ClientCredentials, application, secrets: list[ClientSecret]):
    return matching_secret(credentials.client_secret or "", secrets)


# Each kind of credential (ClientCredentials.kind): how its client and candidate credentials are read, and which of
# them the request's credentials prove.
CREDENTIAL_CHECKS = {
    "secret": (application_and_secrets, secret_of),
    "assertion": (application_and_keys, asserted_key),
    "federated": (application_and_federated_credentials, federated_credential_of),
}


class ApplicationValidator(OAuth2Validator):
    """The toolkit's validator, on its public hooks: clients authenticate with the credentials the backend read."""

    # Set by this request's backend (applications.oauth.request) before oauthlib runs: a validator is made per
    # request, so this is the request's own. A path that did not read the credentials strictly has none here,
    # and authenticates nobody.
    authentication: ClientAuthentication | None = None

    def client_authentication_required(self, request, *args, **kwargs):
        # Every client here is confidential: revocation and introspection authenticate as the token endpoint does.
        return True

    @sensitive_variables()
    def authenticate_client(self, request, *args, **kwargs):
        """Check the credentials the backend read and counts: the client and its unrevoked credentials of the kind
        sent (secrets; keys for an assertion; federated credentials for a workload's token) in one query, then the one
        they prove."""
        authentication = self.authentication
        client_id = authentication.credentials.client_id if authentication else None
        if not client_id:
            return False
        read, check = CREDENTIAL_CHECKS[authentication.credentials.kind]
        try:
            found = read(client_id)
        except ValueError:  # a NUL byte PostgreSQL refuses to send: no client has it
            found = None
        if found is None:
            return False
        application, candidates = found
        # Before any credential is checked, whatever its kind: a suspended application, or a request from outside
        # its allowed networks, authenticates with none (and counts as a failure).
        if not application.is_usable(request) or not application.admits(authentication.address):
            return False
        credential = check(request, authentication.credentials, application, candidates)
        if credential is None:
            return False
        request.client = authentication.application = application
        setattr(authentication, IssuedToken.CREDENTIAL_FIELDS[type(credential)], credential)
        # At the token, revocation and introspection endpoints alike: any use shows the credential is still deployed.
        record_use(credential, address=authentication.address)
        return True

    def save_bearer_token(self, token, request, *args, **kwargs):
        """Store a client-credentials token, linked to the credential it was issued with.

        No transaction around the two INSERTs (the toolkit's adds a BEGIN and a COMMIT): the token reaches its
        client only in the response, after both, so a failure between them leaves a token nobody holds.
        """
        self._check_and_set_request_resource(request)  # RFC 8707 resource indicators, read as the toolkit reads them
        access_token = get_access_token_model()(
            user=None,
            scope=token["scope"],
            expires=timezone.now() + timedelta(seconds=token["expires_in"]),
            application=request.client,
            resource=request.resource,
        )
        set_token_value(access_token, token["access_token"])
        try:
            access_token.save()
        except IntegrityError:
            # The application was deleted between authenticating and storing the token:
            # it issues no token after its deletion commits.
            raise errors.InvalidClientError(request=request)
        if not record_issued_token(access_token.pk, self.authentication.credential):
            access_token.delete()
            raise errors.InvalidClientError(request=request)
        record_use(request.client)

    def introspect_token(self, token, token_type_hint, request, *args, **kwargs):
        """The RFC 7662 claims of an active token issued to the calling client; None for any other token.

        The toolkit leaves this unimplemented. Another client's token answers as an unknown one
        would, so no client learns anything about tokens it was not issued.
        """
        access_token = introspected_token(token)
        if access_token is None or access_token.application_id != request.client.pk:
            return None
        return {
            "scope": access_token.scope,
            "client_id": request.client.client_id,
            "token_type": "Bearer",
            "exp": int(access_token.expires.timestamp()),
            "iat": int(access_token.created.timestamp()),
            "iss": issuer(request),
        }

    def revoke_token(self, token, token_type_hint, request, *args, **kwargs):
        # Only the calling client's own token, whatever the hint: another client's token, an unknown
        # or an already revoked one changes nothing, and the answer is 200 all the same (RFC 7009 §2.2).
        delete_access_token(checksum=token_checksum(token), application_id=request.client.pk)
