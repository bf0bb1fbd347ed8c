from django.db import IntegrityError, connections, router, transaction
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables
from oauth2_provider.models import get_access_token_model, get_application_model
from oauth2_provider.oauth2_validators import OAuth2Validator
from oauthlib.oauth2.rfc6749 import errors

from applications.identifiers import refused_without_hashing
from applications.models import ClientSecret, IssuedToken
from applications.oauth.authentication import ClientAuthenticationError, client_credentials
from applications.oauth.reads import application_and_secrets, introspected_token, token_checksum
from applications.oauth.server import issuer
from applications.selectors import live_secrets_query
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


class ApplicationValidator(OAuth2Validator):
    @sensitive_variables()
    def authenticate_client(self, request, *args, **kwargs):
        """Check the credentials the brute-force limiter counted, read by the same strict parser.

        The toolkit's own reading decodes Basic leniently and falls back to the body when
        Basic fails (two secrets tried per request); neither happens here.
        """
        try:
            credentials = client_credentials(request.headers.get("Authorization"), request.decoded_body or [])
        except ClientAuthenticationError as error:
            raise error.oauth2_error(request)
        if not credentials.client_id or self._load_application(credentials.client_id, request) is None:
            return False
        return self._check_client_secret(request, credentials.client_secret or "")

    @sensitive_variables()
    def _check_client_secret(self, request, secret: str) -> bool:
        """Whether `secret` is one of the client's live secrets; remembers which one on the request."""
        request.client_secret_row = None
        if refused_without_hashing(secret):
            # An `ipcs_` secret with a broken checksum: no stored hash can match, so none is computed.
            return False
        now = timezone.now()
        unrevoked = getattr(request, "unrevoked_secrets", None)
        if unrevoked is None:  # a client the toolkit loaded (see _load_application)
            unrevoked = live_secrets_query(now).filter(application_id=request.client.pk)
        live = [row for row in unrevoked if row.is_live(now)]
        matched = None
        # Every live secret is checked, so the time taken does not tell which one matched.
        for row in live:
            if self._check_secret(secret, row.secret_hash) and matched is None:
                matched = row
        request.client_secret_row = matched
        if matched is None:
            return False
        # At the token, revocation and introspection endpoints alike: any use shows the secret is still deployed.
        record_use(matched)
        return True

    def _create_access_token(self, expires, request, token, source_refresh_token=None):
        access_token = super()._create_access_token(expires, request, token, source_refresh_token)
        secret = getattr(request, "client_secret_row", None)
        # No transaction around the two INSERTs: the token reaches its client only in the
        # response, after both, so a failure between them leaves a token nobody holds.
        if secret is not None and not record_issued_token(access_token.pk, secret.pk):
            access_token.delete()
            raise errors.InvalidClientError(request=request)
        return access_token

    def _extract_basic_auth(self, request):
        # Whether the request tries Basic (client_authentication_required asks); authenticate_client reads it.
        authorization = request.headers.get("Authorization") or ""
        return authorization if authorization.partition(" ")[0].lower() == "basic" else None

    def _authenticate_basic_auth(self, request):
        raise NotImplementedError("authenticate_client reads every client authentication.")

    def _authenticate_request_body(self, request):
        raise NotImplementedError("authenticate_client reads every client authentication.")

    def _load_application(self, client_id, request):
        cached = request.client
        if isinstance(cached, get_application_model()) and cached.client_id == client_id and cached.is_usable(request):
            return cached
        try:
            found = application_and_secrets(client_id)
        except ValueError:  # a NUL byte PostgreSQL refuses to send: no client has it
            found = None
        client, secrets = found or (None, None)
        if client is None or client.registration_source == client.RegistrationSource.CIMD:
            # Unknown client IDs and metadata-document clients take the toolkit's own path.
            request.client = None
            return super()._load_application(client_id, request)
        if not client.is_usable(request):
            return None
        request.client = client
        # Read in the same query, for authenticate_client to check the secret against.
        request.unrevoked_secrets = secrets
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
