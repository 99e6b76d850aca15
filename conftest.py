"""Test-wide setup: the suite runs against Postgres (DATABASE_URL) as `make test` sets it."""

import os

os.environ.setdefault("SECRET_KEY", "test-only-secret")
