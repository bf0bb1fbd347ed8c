import os

from django.core.wsgi import get_wsgi_application

from portal.serve import ChunkedBodies

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
application = ChunkedBodies(get_wsgi_application())
