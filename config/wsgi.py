import os

from django.core.wsgi import get_wsgi_application

from ops.serve import ChunkedBodies, ProcessEnvironmentLeftOut

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = ProcessEnvironmentLeftOut(ChunkedBodies(get_wsgi_application()))
