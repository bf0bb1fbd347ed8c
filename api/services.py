from api.models import Credential


def create_credential(
    *, organization, document: dict, visibility: str = Credential.Visibility.PRIVATE, application=None
) -> Credential:
    """Store a credential the caller has already checked against the VC data model."""
    return Credential.objects.create(
        organization=organization, document=document, visibility=visibility, created_by_application=application
    )


def update_credential(*, credential: Credential, visibility: str | None = None) -> Credential:
    """Change a credential's visibility; the document itself never changes once stored."""
    if visibility is not None and visibility != credential.visibility:
        credential.visibility = visibility
        credential.save(update_fields=["visibility"])
    return credential


def delete_credential(*, credential: Credential) -> None:
    credential.delete()
