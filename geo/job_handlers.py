"""The map's job handler, registered with the jobs runner at start-up."""

from jobs.registry import JobHandler, register

from . import services

register(
    JobHandler(
        name=services.LOCATE,
        plan=services.locate_plan,
        prepare=services.locate_prepare,
        apply=services.locate_apply,
        on_success=services.after_locate,
    )
)
register(
    JobHandler(
        name=services.SUMMARIZE,
        plan=services.summarize_plan,
        prepare=services.summarize_prepare,
        apply=services.summarize_apply,
    )
)
