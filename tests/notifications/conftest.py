import pytest


@pytest.fixture(autouse=True)
def inline_webhooks(settings):
    """Without a broker, deliveries run in the committing thread (not a background thread),
    so a test sees them done when its request's commit callbacks have run."""
    settings.WEBHOOK_EAGER_MODE = "inline"
    settings.WEBHOOK_CONCURRENCY = 4
