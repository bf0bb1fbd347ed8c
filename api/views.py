from django.http import JsonResponse
from django.views.decorators.http import require_GET


@require_GET
def postman_collection_view(request):
    # Placeholder until the API's operations exist; the collection holds no secrets.
    return JsonResponse(
        {
            "info": {
                "name": "Integrations Portal API",
                "schema": "https://schema.getpostman.com/json/collection/v2.1.0/collection.json",
            },
            "item": [],
        }
    )
