"""Signals crm_sync sends for apps above it (which it must not import)."""

from django.dispatch import Signal

# Sent by a member sync run after members and the pipeline snapshot, with `connection` and
# `provider` (connected): a receiver may read more from the CRM in the same run and return
# counts for the run (e.g. {"accepted": 3}).
member_sync_done = Signal()
