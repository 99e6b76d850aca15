from django.core.management.base import BaseCommand, CommandError

from revorg import selectors, services
from revorg.errors import ApplicationError


class Command(BaseCommand):
    help = "Create an API key for a workspace. The key is printed once, on the last line."

    def add_arguments(self, parser):
        parser.add_argument("workspace", help="workspace slug")
        parser.add_argument("--name", required=True)
        parser.add_argument("--scopes", default="read", help="comma-separated: allocate,read,write")

    def handle(self, *args, workspace, name, scopes, **options):
        found = selectors.workspace_get_by_slug(slug=workspace)
        if found is None:
            raise CommandError(f"no workspace '{workspace}'")
        try:
            issued = services.api_key_create(workspace=found, name=name, scopes=scopes)
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        key = issued.api_key
        self.stdout.write(f"API key '{key.name}' ({key.prefix}) scopes={','.join(key.scopes)}")
        self.stdout.write("Store it now: it is not shown again.")
        self.stdout.write(issued.raw_key)
