from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions, status


class InsufficientScope(exceptions.PermissionDenied):
    default_code = "insufficient_scope"

    def __init__(self, scope: str):
        self.scope = scope
        super().__init__(f"This operation needs the {scope} scope." if scope else "No scope grants this operation.")


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "payload_too_large"


def exception_handler(exc, context):
    # Imported here: rest_framework.views loads the permission classes, which import this module.
    from rest_framework.views import exception_handler as drf_exception_handler

    if isinstance(exc, RequestDataTooBig):
        # Django's DATA_UPLOAD_MAX_MEMORY_SIZE check; unhandled it would become an HTML 400.
        exc = PayloadTooLarge()
    elif isinstance(exc, DjangoValidationError):
        # A rule a service enforces for every entry point (a name already taken): a 400 naming the field,
        # where DRF alone would answer 500.
        exc = exceptions.ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)
    response = drf_exception_handler(exc, context)
    if response is not None and isinstance(exc, InsufficientScope):
        # DRF's 403 carries no challenge; RFC 6750 §3.1 wants one naming the missing scope.
        response["WWW-Authenticate"] = f'Bearer error="insufficient_scope", scope="{exc.scope}"'
    return response
