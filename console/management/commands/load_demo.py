from django.core.management.base import BaseCommand

from console.demo import DEMO_PASSWORD, DEMO_USERNAME, load_demo


class Command(BaseCommand):
    help = "Seed (or top up) the demo workspace; prints the login and a fresh API key."

    def handle(self, *args, **options):
        workspace, raw_key = load_demo()
        self.stdout.write(f"Demo workspace '{workspace.slug}' ready (id {workspace.pk}).")
        self.stdout.write(
            f"Log in at http://127.0.0.1:8000/  user: {DEMO_USERNAME}  password: {DEMO_PASSWORD}"
        )
        self.stdout.write("API key (shown once; older 'make run' keys are revoked):")
        self.stdout.write(raw_key)
