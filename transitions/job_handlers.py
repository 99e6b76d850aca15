"""The activation job's handler, registered with the jobs runner at start-up."""

from jobs.registry import JobHandler, register

from . import services

register(
    JobHandler(
        name=services.ACTIVATE,
        plan=services.activation_plan,
        prepare=services.activation_prepare,
        apply=services.activation_apply,
        on_success=services.activation_finished,
    )
)
