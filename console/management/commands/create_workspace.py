from django.core.management.base import BaseCommand, CommandError

from console.services import workspace_setup
from revorg.errors import ApplicationError


class Command(BaseCommand):
    help = "Create a workspace (tenant). Prints its id."

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("--name", required=True)

    def handle(self, *args, slug, name, **options):
        try:
            workspace = workspace_setup(slug=slug, name=name)
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(str(workspace.pk))
