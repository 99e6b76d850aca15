"""Exactly one current history entry per book account, whoever writes it.

An allocation of record type `account` (POST /allocations/, a reassignment) inserts its entry
outside the book's code. These triggers make such an insert (1) lock the book's account row
first — the row re-evaluation locks too, so the two are serialised — and (2) after the
insert, with a fresh snapshot, supersede any other current entry of that account (one a
concurrent re-evaluation committed meanwhile) and mirror the new owner on the account.
Re-evaluation's own set-based inserts set `revorg.book_bulk` and are skipped: they hold the
row locks and supersede themselves. Postgres only (SQLite has one writer at a time)."""

from django.db import migrations

FUNCTIONS = """
CREATE OR REPLACE FUNCTION book_account_entry_lock() RETURNS trigger AS $$
BEGIN
  IF coalesce(current_setting('revorg.book_bulk', true), '') = 'on' THEN RETURN NEW; END IF;
  PERFORM 1 FROM book_account
   WHERE workspace_id = NEW.workspace_id AND crm_id = NEW.record_id
     AND (crm_provider = NEW.record_crm OR NEW.record_crm = '')
   ORDER BY id FOR UPDATE;
  RETURN NEW;
END $$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION book_account_entry_current() RETURNS trigger AS $$
BEGIN
  IF coalesce(current_setting('revorg.book_bulk', true), '') = 'on' THEN RETURN NULL; END IF;
  UPDATE allocation_allocation SET is_current = false
   WHERE workspace_id = NEW.workspace_id AND record_type = 'account'
     AND record_id = NEW.record_id AND is_current AND id <> NEW.id;
  UPDATE book_account SET owner_id = NEW.owner_id, assigned_at = NEW.created_at,
         updated_at = now()
   WHERE workspace_id = NEW.workspace_id AND crm_id = NEW.record_id
     AND (crm_provider = NEW.record_crm OR NEW.record_crm = '');
  RETURN NULL;
END $$ LANGUAGE plpgsql;

CREATE TRIGGER book_account_entry_lock BEFORE INSERT ON allocation_allocation
  FOR EACH ROW WHEN (NEW.record_type = 'account' AND NEW.is_current AND NEW.record_id <> '')
  EXECUTE FUNCTION book_account_entry_lock();
CREATE TRIGGER book_account_entry_current AFTER INSERT ON allocation_allocation
  FOR EACH ROW WHEN (NEW.record_type = 'account' AND NEW.is_current AND NEW.record_id <> '')
  EXECUTE FUNCTION book_account_entry_current();
"""

DROP = """
DROP TRIGGER IF EXISTS book_account_entry_current ON allocation_allocation;
DROP TRIGGER IF EXISTS book_account_entry_lock ON allocation_allocation;
DROP FUNCTION IF EXISTS book_account_entry_current();
DROP FUNCTION IF EXISTS book_account_entry_lock();
"""


def _run(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("book", "0001_initial"),
        ("allocation", "0001_initial"),
    ]

    operations = [migrations.RunPython(_run(FUNCTIONS), _run(DROP))]
