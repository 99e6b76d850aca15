"""Hot-path rows become model instances with the ORM's value conversions."""

import pytest
from django.db import connection

from revorg.models import ApiKey
from revorg.rawsql import rows_load
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
