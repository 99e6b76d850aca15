"""What territories tell the apps built on them, without importing them (data flows one way:
the book listens to territories, never the reverse)."""

from django.dispatch import Signal

# Sent once the change is committed, with `plan_id`: the plan's contents (territories, slots,
# locks) or its status changed, so anything derived from the plan is out of date.
# `reevaluation_queued=True`: the sender already queued the book's re-evaluation (a plan
# activation runs it as part of its own job), so listeners need not queue another.
plan_changed = Signal()
