from django.core.management.base import BaseCommand, CommandError

from crm_sync.models import CrmConnection, SyncKind, SyncRun
from crm_sync.sync import sync_execute
from revorg.selectors import workspace_get_by_slug


class Command(BaseCommand):
    help = "Sync members and open deals from a workspace's CRM connections now."

    def add_arguments(self, parser):
        parser.add_argument("workspace", help="workspace slug")
        parser.add_argument("--connection", type=int, help="only this connection id")
        parser.add_argument("--full", action="store_true", help="ignore the incremental cursor")

    def handle(self, *args, **options):
        workspace = workspace_get_by_slug(slug=options["workspace"])
        if workspace is None:
            raise CommandError(f"no workspace '{options['workspace']}'")
        connections = CrmConnection.objects.filter(workspace=workspace, is_active=True)
        if options["connection"]:
            connections = connections.filter(pk=options["connection"])
        if not connections:
            raise CommandError("no active CRM connection to sync")
        failed = False
        for connection in connections:
            run = SyncRun.objects.create(
                workspace=workspace, connection=connection, kind=SyncKind.SYNC
            )
            label = f"{connection.provider} connection {connection.pk}"

            def progress(counts, label=label):
                self.stdout.write(
                    f"\r{label}: {counts['processed']}/{counts['total']} users", ending=""
                )
                self.stdout.flush()

            run = sync_execute(run=run, full=options["full"], progress=progress)
            counts = {k: v for k, v in run.counts.items() if k not in ("cursor", "mode")}
            summary = ", ".join(f"{name} {value}" for name, value in counts.items())
            self.stdout.write(f"\r{label}: {run.status} (run {run.pk}): {summary}")
            for error in run.errors:
                self.stderr.write(f"  {error}")
            failed = failed or run.status != "succeeded"
        if failed:
            raise CommandError("a sync failed; see the errors above and the sync-run log")
