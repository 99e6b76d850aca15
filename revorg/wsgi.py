import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "revorg.settings")

application = get_wsgi_application()

from revorg.security import require_production_secret  # noqa: E402 - needs settings loaded

require_production_secret()
