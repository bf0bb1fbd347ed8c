"""Example documents shared by the OpenAPI schema and the Postman collection."""

VERIFIABLE_CREDENTIAL = {
    "@context": ["https://www.w3.org/ns/credentials/v2", "https://www.w3.org/ns/credentials/examples/v2"],
    "id": "urn:uuid:58172aac-d8ba-11ed-83dd-0b3aef56cc33",
    "type": ["VerifiableCredential", "ExampleAlumniCredential"],
    "issuer": {"id": "did:example:2g55q912ec3476eba2l9812ecbfe", "name": "Example University"},
    "validFrom": "2026-01-01T00:00:00Z",
    "credentialSubject": {
        "id": "did:example:ebfeb1f712ebc6f1c276e12ec21",
        "alumniOf": {"id": "did:example:c276e12ec21ebfeb1f712ebc6f1", "name": "Example University"},
    },
}

CREDENTIAL_ID = "3fa85f64-5717-4562-b3fc-2c963f66afa6"
APPLICATION_ID = "6b1a2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
ORGANIZATION_ID = "0e6f4c7a-2b1d-4d3e-9f8a-7b6c5d4e3f2a"
SECRET_ID = "9d3c1f2e-8b7a-4c6d-9e5f-1a2b3c4d5e6f"
# The shape of a client secret with a checksum that does not match: secret scanners skip it.
CLIENT_SECRET = "ipcs_EXAMPLE0EXAMPLE0EXAMPLE0EXAMPLE0EXAMPLE0EXA000000"
