"""The account indexes a re-evaluation writes, cheaper to maintain (bench/README.md, Book,
session 15). A re-evaluation that changes an account writes a new version of its row, and
each of its indexes gets a new entry beside the old one (the old stays until vacuum):

- `account_ws_id_territory` goes. The open pipeline per territory (analytics.selectors)
  reads its deals' accounts through the primary key instead; on a million accounts, with
  fresh statistics, the same within the noise (76–113 ms either way).
- The primary key and the CRM-id constraint, whose entries arrive in key order when a book
  is imported (rightmost page splits, pages filled to their fillfactor), keep half of each
  page free: a first assignment then adds each account's new entry beside its old one without
  splitting most pages. An existing book gets the free space when these indexes are rebuilt
  (`REINDEX INDEX CONCURRENTLY`); until then, only the pages split from now on."""

from django.db import migrations

INDEXES = ("book_account_pkey", "uniq_account_crm_id")


def _fillfactor(value: int | None):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for name in INDEXES:
            if value is None:
                schema_editor.execute(f"ALTER INDEX {name} RESET (fillfactor)")
            else:
                schema_editor.execute(f"ALTER INDEX {name} SET (fillfactor = {int(value)})")

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("book", "0011_accountoverlay_drop_workspace_index"),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="account",
            name="account_ws_id_territory",
        ),
        migrations.RunPython(_fillfactor(50), _fillfactor(None)),
    ]
