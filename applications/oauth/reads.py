"""Lean reads for the hot paths: the token endpoint's application load, the API's bearer check and introspection,
and the leak report's look-up of a secret.

RowQuery, the house's one compile-once read, serves the API's credential list too.
"""

import hashlib
import re

from django.db import connections, router
from oauth2_provider.models import get_access_token_model, get_application_model

from applications.models import ClientSecret, FederatedCredential, PublicKey
from portal.models import Organization


class RowQuery:
    """One hand-written SELECT whose rows become model instances, or plain values, converted as the ORM would.

    The ORM compiles a query anew on every call, and on the token endpoint and every API
    request that compiling cost more than the query itself. The SQL and the value converters
    are built here once per database from the models' metadata; the rows are read fresh on
    every call, so nothing about a token or an application is remembered between requests.
    """

    def __init__(self, parts, tail, *, raw=None):
        # parts: (model, table alias, attnames to load or None for all); tail: FROM/WHERE with
        # {alias.attname} placeholders for quoted columns and {alias} for quoted tables; raw: name →
        # SQL in the same placeholders, selected after the fields and given as the database gives it.
        self.parts = [
            (model, alias, [f for f in model._meta.concrete_fields if attnames is None or f.attname in attnames])
            for model, alias, attnames in parts
        ]
        self.tail = tail
        self.raw = raw or {}
        # Which columns of a row make each part's instance.
        self.slices, start = [], 0
        for model, _, fields in self.parts:
            self.slices.append((model, [f.attname for f in fields], start, start + len(fields)))
            start += len(fields)
        self.compiled = {}

    @property
    def columns(self) -> list[str]:
        """What each value of a values() row is: the fields' attnames in the order of `parts`, then raw's names."""
        return [*(f.attname for _, _, fields in self.parts for f in fields), *self.raw]

    def _compile(self, using):
        connection = connections[using]
        qn = connection.ops.quote_name
        names = {}
        for model, alias, _ in self.parts:
            names[alias] = f"{qn(model._meta.db_table)} {qn(alias)}"
            for f in model._meta.concrete_fields:
                names[f"{alias}.{f.attname}"] = f"{qn(alias)}.{qn(f.column)}"

        def expand(sql):
            return re.sub(r"\{([\w.]+)\}", lambda m: names[m.group(1)], sql)

        columns, converters = [], []
        for _, alias, fields in self.parts:
            for f in fields:
                col = f.get_col(alias)
                steps = [(c, col) for c in [*connection.ops.get_db_converters(col), *f.get_db_converters(connection)]]
                if steps:  # most columns need none: only those with converters are visited per row
                    converters.append((len(columns), steps))
                columns.append(names[f"{alias}.{f.attname}"])
        columns.extend(expand(sql) for sql in self.raw.values())
        self.compiled[using] = (f"SELECT {', '.join(columns)} {expand(self.tail)}", converters)
        return self.compiled[using]

    def fetch(self, *params):
        """The instances of the one matching row, in the order of `parts`; None when no row matches."""
        using, rows = self._rows(params, many=False)
        return self._instances(using, rows[0]) if rows else None

    def fetch_all(self, *params):
        """The instances of every matching row, each a list in the order of `parts`."""
        using, rows = self._rows(params, many=True)
        return [self._instances(using, row) for row in rows]

    def values(self, *params) -> list:
        """Every matching row as plain values, in the order of `columns`."""
        return self._rows(params, many=True)[1]

    def _rows(self, params, *, many):
        using = router.db_for_read(self.parts[0][0])
        sql, converters = self.compiled.get(using) or self._compile(using)
        connection = connections[using]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall() if many else [row for row in [cursor.fetchone()] if row is not None]
        if converters:
            rows = [_converted(row, converters, connection) for row in rows]
        return using, rows

    def _instances(self, using, row):
        return [model.from_db(using, attnames, row[start:end]) for model, attnames, start, end in self.slices]


def _converted(row, converters, connection) -> list:
    values = list(row)
    for index, steps in converters:
        value = values[index]
        for convert, col in steps:
            value = convert(value, col, connection)
        values[index] = value
    return values


# A client and its unrevoked secrets in one query, on the client ID's and the foreign key's indexes:
# one row per secret (its columns NULL when none is left). Expiry is checked by the caller against
# one clock, so "expired" means the same in the query and in the code.
_application_and_secrets = RowQuery(
    [
        (get_application_model(), "a", None),
        (ClientSecret, "s", {"id", "application_id", "secret_hash", "expires_at", "last_used_at", "revoked_at"}),
    ],
    "FROM {a} LEFT OUTER JOIN {s} ON {s.application_id} = {a.id} AND {s.revoked_at} IS NULL WHERE {a.client_id} = %s",
)


def application_and_secrets(client_id: str):
    """(the application with this client ID, its unrevoked secrets), or None when no application has it."""
    return _application_and_credentials(_application_and_secrets, client_id)


# The same for a client assertion: the client and its unrevoked public keys.
_application_and_keys = RowQuery(
    [
        (get_application_model(), "a", None),
        (
            PublicKey,
            "k",
            {"id", "application_id", "kid", "alg", "public_key", "expires_at", "last_used_at", "revoked_at"},
        ),
    ],
    "FROM {a} LEFT OUTER JOIN {k} ON {k.application_id} = {a.id} AND {k.revoked_at} IS NULL WHERE {a.client_id} = %s",
)


def application_and_keys(client_id: str):
    """(the application with this client ID, its unrevoked public keys), or None when no application has it."""
    return _application_and_credentials(_application_and_keys, client_id)


# The same for a workload's token: the client and its unrevoked federated credentials, oldest first (the first that
# matches is the one the token is issued through).
_application_and_federated_credentials = RowQuery(
    [
        (get_application_model(), "a", None),
        (
            FederatedCredential,
            "f",
            {"id", "application_id", "issuer", "subject", "audience", "last_used_at", "revoked_at"},
        ),
    ],
    "FROM {a} LEFT OUTER JOIN {f} ON {f.application_id} = {a.id} AND {f.revoked_at} IS NULL WHERE {a.client_id} = %s "
    "ORDER BY {f.id}",
)


def application_and_federated_credentials(client_id: str):
    """(the application with this client ID, its live federated credentials), or None when no application has it."""
    return _application_and_credentials(_application_and_federated_credentials, client_id)


def _application_and_credentials(query: RowQuery, client_id: str):
    rows = query.fetch_all(client_id)
    if not rows:
        return None
    return rows[0][0], [credential for _, credential in rows if credential.pk is not None]


# What an API request reads of its token: validity and scope, the application it records use
# on, and the organization it is scoped to. Other fields load on first access, if ever.
_token_by_checksum = RowQuery(
    [
        (get_access_token_model(), "t", {"id", "user_id", "application_id", "expires", "created", "scope", "resource"}),
        (
            get_application_model(),
            "a",
            {"id", "client_id", "name", "organization_id", "last_used_at", "allowed_networks", "suspended"},
        ),
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


# What introspection reports of a token: whose it is, what it allows, when it was issued and when it ends.
_token_claims = RowQuery(
    [(get_access_token_model(), "t", {"id", "application_id", "expires", "created", "scope"})],
    "FROM {t} WHERE {t.token_checksum} = %s",
)


def introspected_token(token: str):
    """The unexpired access token with this value, its own columns only, read fresh as active_access_token is."""
    found = _token_claims.fetch(token_checksum(token)) if token else None
    access_token = found[0] if found else None
    return None if access_token is None or access_token.is_expired() else access_token


# A leak report's secret: the rows under its lookup keys (ClientSecret.lookup_key), each with its application and
# organization for the Activity record and the mail, on the lookup key's index.
_secrets_by_lookup_key = RowQuery(
    [
        (ClientSecret, "s", {"id", "public_id", "application_id", "secret_hash", "hint", "expires_at", "revoked_at"}),
        (get_application_model(), "a", {"id", "public_id", "name", "organization_id"}),
        (Organization, "o", None),
    ],
    "FROM {s} INNER JOIN {a} ON {a.id} = {s.application_id} INNER JOIN {o} ON {o.id} = {a.organization_id} "
    "WHERE {s.lookup_key} IN (%s, %s)",
)


def secrets_with_lookup_keys(first: str, second: str) -> list[ClientSecret]:
    """The secrets stored under either lookup key, each with its application and organization, in one query."""
    found = []
    for secret, application, organization in _secrets_by_lookup_key.fetch_all(first, second):
        application.organization = organization
        secret.application = application
        found.append(secret)
    return found
