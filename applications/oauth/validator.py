from datetime import timedelta

from django.contrib.auth.hashers import check_password
from django.db import IntegrityError, connections, router, transaction
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables
from oauth2_provider.models import get_access_token_model, set_token_value
from oauth2_provider.oauth2_validators import OAuth2Validator
from oauthlib.oauth2.rfc6749 import errors

from applications.identifiers import refused_without_hashing
from applications.models import ClientSecret, IssuedToken
from applications.oauth.authentication import ClientAuthentication
from applications.oauth.reads import application_and_secrets, introspected_token, token_checksum
from applications.oauth.server import issuer
from applications.services import record_use


def record_issued_token(access_token_id: int, secret_id: int) -> bool:
    """Record the token's secret, unless that secret was revoked meanwhile; False then.

    One hand-written statement, as the reads are. The secret's row is read with a share lock where
    the database has one: a revocation committing between this client's authentication and here
    is seen (no token escapes "revoke with its tokens"), and one still running waits for this.
    """
    using = router.db_for_write(IssuedToken)
    connection = connections[using]
    qn = connection.ops.quote_name
    token_column = qn(IssuedToken._meta.get_field("access_token").column)
    secret_column = qn(IssuedToken._meta.get_field("secret").column)
    secrets = ClientSecret._meta
    lock = " FOR SHARE" if connection.features.has_select_for_update else ""
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {qn(IssuedToken._meta.db_table)} ({token_column}, {secret_column}) "
            f"SELECT %s, {qn(secrets.pk.column)} FROM {qn(secrets.db_table)} "
            f"WHERE {qn(secrets.pk.column)} = %s AND {qn(secrets.get_field('revoked_at').column)} IS NULL{lock}",
            [access_token_id, secret_id],
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
        """Check the credentials the backend read and counts: the client and its unrevoked secrets in one query."""
        authentication = self.authentication
        client_id = authentication.credentials.client_id if authentication else None
        if not client_id:
            return False
        try:
            found = application_and_secrets(client_id)
        except ValueError:  # a NUL byte PostgreSQL refuses to send: no client has it
            found = None
        if found is None:
            return False
        application, secrets = found
        # Before any credential is checked, whatever its kind: a suspended application, or a request from outside
        # its allowed networks, authenticates with none (and counts as a failure).
        if not application.is_usable(request) or not application.admits(authentication.address):
            return False
        secret = matching_secret(authentication.credentials.client_secret or "", secrets)
        if secret is None:
            return False
        request.client = authentication.application = application
        authentication.secret = secret
        # At the token, revocation and introspection endpoints alike: any use shows the secret is still deployed.
        record_use(secret, address=authentication.address)
        return True

    def save_bearer_token(self, token, request, *args, **kwargs):
        """Store a client-credentials token, linked to the secret it was issued with.

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
        if not record_issued_token(access_token.pk, self.authentication.secret.pk):
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
