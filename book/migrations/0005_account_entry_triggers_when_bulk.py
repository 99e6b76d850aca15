"""The history triggers of 0002 skip the book's own set-based inserts in their WHEN clause,
not in their body: an AFTER trigger whose WHEN is false queues no event, so a chunk of 5,000
entries no longer calls two PL/pgSQL functions 5,000 times each just to return (the bodies
keep their own check, for anything that calls them)."""

from django.db import migrations

NOT_BULK = "coalesce(current_setting('revorg.book_bulk', true), '') <> 'on'"
CONDITION = "NEW.record_type = 'account' AND NEW.is_current AND NEW.record_id <> ''"


def _triggers(when: str) -> str:
    return f"""
DROP TRIGGER IF EXISTS book_account_entry_current ON allocation_allocation;
DROP TRIGGER IF EXISTS book_account_entry_lock ON allocation_allocation;
CREATE TRIGGER book_account_entry_lock BEFORE INSERT ON allocation_allocation
  FOR EACH ROW WHEN ({when}) EXECUTE FUNCTION book_account_entry_lock();
CREATE TRIGGER book_account_entry_current AFTER INSERT ON allocation_allocation
  FOR EACH ROW WHEN ({when}) EXECUTE FUNCTION book_account_entry_current();
"""


def _run(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("book", "0004_accountoverlay")]

    operations = [
        migrations.RunPython(
            _run(_triggers(f"{CONDITION} AND {NOT_BULK}")), _run(_triggers(CONDITION))
        )
    ]
