"""Fill one benchmark database: `python -m bench.seed --tokens N` with DATABASE_URL naming it.

Migrates, creates the benchmarked organization and its applications through the real
services, other organizations with theirs, credentials, N stored access tokens and, with
--secrets, stored client secrets (bulk inserted: filler rows need no service). Prints one
JSON object with the clients' IDs and secrets, and scenario L's report, for bench/run.py.
"""

import argparse
import datetime as dt
import json
import os
import secrets
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

VERIFIABLE_CREDENTIAL = {
    "@context": ["https://www.w3.org/ns/credentials/v2", "https://www.w3.org/ns/credentials/examples/v2"],
    "type": ["VerifiableCredential", "EmployeeCredential"],
    "issuer": "did:example:bench-issuer",
    "validFrom": "2026-01-01T00:00:00Z",
    "credentialSubject": {"id": "did:example:subject", "employeeOf": "Bench Corp", "role": "Integrations"},
}
SCOPES = ["read:credentials", "create:credentials"]
# B-net and C-net: 20 allowed networks, the load's own address (127.0.0.1) last, so every request checks them all.
ALLOWED_NETWORKS = [f"198.18.{n}.0/24" for n in range(19)] + ["127.0.0.1"]


def seed(
    *, tokens: int, credentials: int, filler_organizations: int, secrets_count: int = 0, issuer: str | None = None
) -> dict:
    from django.contrib.auth.hashers import make_password
    from django.core.management import call_command

    from api.models import Credential
    from applications.models import ClientSecret, IssuedToken
    from applications.services import (
        add_federated_credential,
        create_application,
        generate_key,
        rotate_secret,
        update_application,
    )
    from bench.views import BENCH_ORGANIZATION_SLUG
    from portal.actors import COMMAND_LINE
    from portal.services import ensure_organization

    call_command("migrate", verbosity=0, interactive=False)
    call_command("createcachetable", verbosity=0)

    organization, _ = ensure_organization(name_or_slug="Bench Corp")
    assert organization.slug == BENCH_ORGANIZATION_SLUG
    api_app, api_secret = create_application(
        organization=organization, name="Bench API client", scopes=["read:credentials"], actor=COMMAND_LINE
    )
    grant_app, grant_secret = create_application(
        organization=organization, name="Bench grants", scopes=SCOPES, actor=COMMAND_LINE
    )
    pbkdf2_app, pbkdf2_secret = create_application(
        organization=organization, name="Bench grants, PBKDF2", scopes=SCOPES, actor=COMMAND_LINE
    )
    # The stock baseline: the same kind of secret hashed with Django's default password hasher (PBKDF2).
    ClientSecret.objects.filter(application=pbkdf2_app).update(secret_hash=make_password(pbkdf2_secret))
    # C2: two live secrets (a rotation in progress), the client already on the newer one.
    rotated_app, _ = create_application(
        organization=organization, name="Bench grants, rotated", scopes=SCOPES, actor=COMMAND_LINE
    )
    _, rotated_secret = rotate_secret(application=rotated_app, actor=COMMAND_LINE, keep_current_for=None)
    # K: grants authenticated by an ES256 client assertion, with a key generated as the portal generates one.
    key_app, _ = create_application(
        organization=organization, name="Bench grants, key pair", scopes=SCOPES, actor=COMMAND_LINE
    )
    _, key_private_pem = generate_key(application=key_app, actor=COMMAND_LINE)
    # F: grants for a workload's token from scenario F's local issuer (bench/issuer.py), added as the portal adds one:
    # the issuer's keys are read now and kept in the shared cache the servers read.
    federated_app = None
    if issuer:
        from bench.issuer import AUDIENCE, SUBJECT

        federated_app, _ = create_application(
            organization=organization, name="Bench grants, federated", scopes=SCOPES, actor=COMMAND_LINE
        )
        add_federated_credential(
            application=federated_app,
            actor=COMMAND_LINE,
            name="Bench workflow",
            issuer=issuer,
            subject=SUBJECT,
            audience=AUDIENCE,
        )

    # B-net and C-net: B's and C's clients, each fenced in to ALLOWED_NETWORKS.
    fenced = {}
    for key, name, scopes in [
        ("api", "Bench API client, fenced", ["read:credentials"]),
        ("grant", "Bench grants, fenced", SCOPES),
    ]:
        app, secret = create_application(organization=organization, name=name, scopes=scopes, actor=COMMAND_LINE)
        update_application(application=app, actor=COMMAND_LINE, allowed_networks=ALLOWED_NETWORKS)
        fenced[key] = [app.client_id, secret]

    others, filler_apps = [], []
    for n in range(filler_organizations):
        other, _ = ensure_organization(name_or_slug=f"Filler {n:03d}")
        others.append(other)
        for m in range(5):
            filler_apps.append(
                create_application(organization=other, name=f"Sync {m}", scopes=SCOPES, actor=COMMAND_LINE)[0].pk
            )

    rows = [Credential(organization=organization, document=VERIFIABLE_CREDENTIAL) for _ in range(credentials)]
    for other in others:
        rows += [Credential(organization=other, document=VERIFIABLE_CREDENTIAL) for _ in range(credentials // 2)]
    Credential.objects.bulk_create(rows, batch_size=2_000)

    fill_tokens(tokens, filler_apps or [grant_app.pk])
    leak_report = fill_secrets(secrets_count, filler_apps or [grant_app.pk]) if secrets_count else None
    return {
        "leak_report": leak_report,
        "api_client": [api_app.client_id, api_secret],
        "grant_client": [grant_app.client_id, grant_secret],
        "pbkdf2_client": [pbkdf2_app.client_id, pbkdf2_secret],
        "rotated_client": [rotated_app.client_id, rotated_secret],
        "key_client": [key_app.client_id, key_private_pem],
        "api_client_net": fenced["api"],
        "grant_client_net": fenced["grant"],
        "federated_client": federated_app.client_id if federated_app else None,
        "token_table": access_token_model()._meta.db_table,
        "issued_table": IssuedToken._meta.db_table,
    }


def access_token_model():
    from oauth2_provider.models import get_access_token_model

    return get_access_token_model()


def fill_tokens(count: int, application_ids: list[int]) -> None:
    """Bulk-insert `count` tokens spread over the applications; one in five is already expired."""
    from django.utils import timezone

    from applications.oauth.reads import token_checksum

    AccessToken = access_token_model()
    now = timezone.now()
    batch = []
    for n in range(count):
        batch.append(
            AccessToken(
                token="",
                # Only a checksum of each token is stored (RFC 9700 token storage).
                token_checksum=token_checksum(secrets.token_urlsafe(30)),
                application_id=application_ids[n % len(application_ids)],
                scope=" ".join(SCOPES),
                expires=now - dt.timedelta(days=1) if n % 5 == 0 else now + dt.timedelta(hours=1),
            )
        )
        if len(batch) == 10_000:
            AccessToken.objects.bulk_create(batch)
            batch = []
    if batch:
        AccessToken.objects.bulk_create(batch)


# Scenario L: a report of this many entries, a third of them live secrets, a third revoked ones, a third unknown.
LEAK_REPORT_ENTRIES = 1_000


def fill_secrets(count: int, application_ids: list[int]) -> dict:
    """Bulk-insert `count` client secrets spread over the applications, stored as the services store them (salted
    hash, hint, lookup key); the report scenario L sends, with the ids of the live secrets it names."""
    import random

    from django.contrib.auth.hashers import make_password
    from django.utils import timezone

    from applications.identifiers import generate_client_secret
    from applications.models import ClientSecret
    from applications.oauth.reads import token_checksum

    live_count = LEAK_REPORT_ENTRIES - 2 * (LEAK_REPORT_ENTRIES // 3)
    revoked_count = LEAK_REPORT_ENTRIES // 3
    if count < live_count + revoked_count:
        raise SystemExit(f"--secrets must be at least {live_count + revoked_count}")
    now = timezone.now()
    live, revoked, batch = [], [], []
    for n in range(count):
        secret = generate_client_secret()
        if n < live_count:
            live.append(secret)
        elif n < live_count + revoked_count:
            revoked.append(secret)
        batch.append(
            ClientSecret(
                application_id=application_ids[n % len(application_ids)],
                secret_hash=make_password(secret, hasher="sha256_salted"),
                hint=secret[-4:],
                lookup_key=token_checksum(secret),
                revoked_at=now if live_count <= n < live_count + revoked_count else None,
            )
        )
        if len(batch) == 10_000:
            ClientSecret.objects.bulk_create(batch)
            batch = []
    if batch:
        ClientSecret.objects.bulk_create(batch)
    unknown = [generate_client_secret() for _ in range(LEAK_REPORT_ENTRIES - live_count - revoked_count)]
    tokens = live + revoked + unknown
    random.Random(24).shuffle(tokens)
    url = "https://github.com/octocat/bench/blob/0000000/settings.py#L1"
    entries = [
        {"token": token, "type": "integrations_portal_secret", "url": url, "source": "content"} for token in tokens
    ]
    live_ids = list(
        ClientSecret.objects.filter(lookup_key__in=[token_checksum(s) for s in live]).values_list("pk", flat=True)
    )
    return {"entries": entries, "live_ids": live_ids}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tokens", type=int, required=True)
    parser.add_argument("--credentials", type=int, default=1_000)
    parser.add_argument("--filler-organizations", type=int, default=20)
    parser.add_argument("--secrets", type=int, default=0, help="stored client secrets for scenario L (0: none)")
    parser.add_argument("--issuer", default=None, help="scenario F's local issuer, trusted by a federated credential")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ["BENCHMARK_VIEWS"] = "true"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    result = seed(
        tokens=args.tokens,
        credentials=args.credentials,
        filler_organizations=args.filler_organizations,
        secrets_count=args.secrets,
        issuer=args.issuer,
    )
    print("BENCH_SEED " + json.dumps(result))


if __name__ == "__main__":
    main()
