"""The replay job handler, registered with the jobs runner at start-up."""

from jobs.registry import register

from .services import HANDLER

register(HANDLER)
