"""Planning's job handlers, registered with the jobs runner at start-up."""

from jobs.registry import JobHandler, register

from . import services

register(
    JobHandler(
        name=services.SIMULATE,
        plan=services.simulate_plan,
        prepare=services.simulate_prepare,
        apply=services.simulate_apply,
    )
)
