"""gunicorn.conf.py, which every gunicorn started from the project root reads."""

import gc
import runpy
from pathlib import Path

GUNICORN_CONF = Path(__file__).resolve().parents[2] / "gunicorn.conf.py"


def test_a_worker_starts_with_its_long_lived_objects_out_of_the_collectors_reach():
    config = runpy.run_path(str(GUNICORN_CONF))
    try:
        config["post_worker_init"](None)
        assert gc.get_freeze_count() > 10_000  # the URLconf, views, Django and DRF
    finally:
        gc.unfreeze()
