"""Hot-path SQL: prepared once per connection, rows become model instances with the ORM's
value conversions."""

import pytest
from django.db import connection

from revorg.models import ApiKey
from revorg.rawsql import hot_cursor, pg_array, rows_load
from tests.factories import WorkspaceFactory, api_key_for


@pytest.mark.django_db
def test_rows_load_converts_like_the_orm_and_defers_the_other_fields():
    workspace = WorkspaceFactory()
    api_key_for(workspace, scopes="read,allocate")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, workspace_id, scopes, created_at FROM revorg_apikey "
            "WHERE workspace_id = %s",
            [workspace.pk],
        )
        [loaded] = rows_load(ApiKey, ("id", "workspace_id", "scopes", "created_at"), cursor)

    stored = ApiKey.objects.get(workspace=workspace)
    assert (loaded.pk, loaded.workspace_id) == (stored.pk, workspace.pk)
    assert loaded.scopes == stored.scopes == ["read", "allocate"]  # JSON, not its text
    assert loaded.created_at == stored.created_at  # an aware datetime
    assert {"name", "hashed_key", "last_used_at"} <= loaded.get_deferred_fields()
    assert loaded.name == stored.name  # loaded when touched


@pytest.mark.django_db
def test_hot_cursor_prepares_each_statement_once_per_connection():
    statement = "SELECT id FROM revorg_workspace WHERE slug = %s"
    for slug in ("a", "b", "c"):
        with hot_cursor() as cursor:
            cursor.execute(statement, [slug])
            assert cursor.fetchall() == []

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s",
            ["%FROM revorg_workspace WHERE slug = $1"],
        )
        prepared = cursor.fetchone()[0]
    # DATABASE_PREPARED_STATEMENTS=0 (behind a transaction-mode pooler): never prepared.
    enabled = connection.settings_dict["OPTIONS"].get("prepare_threshold") is not None
    assert prepared == (1 if enabled else 0)


@pytest.mark.django_db
def test_hot_cursor_runs_unprepared_sql_while_django_logs_queries(django_assert_num_queries):
    with django_assert_num_queries(1) as captured, hot_cursor() as cursor:
        cursor.execute("SELECT id FROM revorg_workspace WHERE slug = %s", ["x"])
    assert "slug = 'x'" in captured.captured_queries[0]["sql"]


@pytest.mark.django_db
def test_pg_array_binds_a_list_as_one_literal_that_reads_back_exactly():
    texts = ["001A", 'quo"te', "back\\slash", "com,ma", "{brace}", "", "NULL", " sp ", "ü"]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT %s::bigint[], %s::text[]", [pg_array([3, None, 12]), pg_array(texts)]
        )
        assert cursor.fetchone() == ([3, None, 12], texts)
