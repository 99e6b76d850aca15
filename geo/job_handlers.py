"""The map's job handler, registered with the jobs runner at start-up."""

from jobs.registry import JobHandler, register

from . import services

register(
    JobHandler(
        name=services.LOCATE,
        plan=services.locate_plan,
        prepare=services.locate_prepare,
        apply=services.locate_apply,
    )
)
