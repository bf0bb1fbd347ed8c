from django.db import IntegrityError, connections, router
from django.utils import timezone
from oauth2_provider.models import get_application_model
from oauth2_provider.oauth2_validators import OAuth2Validator
from oauthlib.oauth2.rfc6749 import errors

from applications.identifiers import refused_without_hashing
from applications.models import ClientSecret, IssuedToken
from applications.oauth.reads import application_by_client_id, unrevoked_secrets
from applications.oauth.request import basic_credentials, sends_basic_credentials
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


class ApplicationValidator(OAuth2Validator):
    def _load_application(self, client_id, request):
        cached = request.client
        if isinstance(cached, get_application_model()) and cached.client_id == client_id and cached.is_usable(request):
            return cached
        try:
            found = application_by_client_id.fetch(client_id)
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

    def authenticate_client(self, request, *args, **kwargs):
        """One method per request: HTTP Basic when the request sends it (readable or not), else the body."""
        if sends_basic_credentials(request):
            credentials = basic_credentials(request)
            if credentials is None:
                return False
            client_id, secret = credentials
        else:
            client_id, secret = request.client_id, getattr(request, "client_secret", None)
        if not client_id or not secret or self._load_application(client_id, request) is None:
            return False
        return self._check_client_secret(request, secret)

    def _check_client_secret(self, request, secret: str) -> bool:
        """Whether `secret` is one of the client's live secrets; remembers which one on the request."""
        request.client_secret_row = None
        if refused_without_hashing(secret):
            # An `ipcs_` secret with a broken checksum: no stored hash can match, so none is computed.
            return False
        now = timezone.now()
        live = [row for (row,) in unrevoked_secrets.fetch_all(request.client.pk) if row.is_live(now)]
        matched = None
        # Every live secret is checked, so the time taken does not tell which one matched.
        for row in live:
            if self._check_secret(secret, row.secret_hash) and matched is None:
                matched = row
        request.client_secret_row = matched
        return matched is not None

    def _create_access_token(self, expires, request, token, source_refresh_token=None):
        access_token = super()._create_access_token(expires, request, token, source_refresh_token)
        secret = getattr(request, "client_secret_row", None)
        # No transaction around the two INSERTs: the token reaches its client only in the
        # response, after both, so a failure between them leaves a token nobody holds.
        if secret is not None and not record_issued_token(access_token.pk, secret.pk):
            access_token.delete()
            raise errors.InvalidClientError(request=request)
        return access_token

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
        record_use(request.client, getattr(request, "client_secret_row", None))
