"""The book's job handlers, registered with the jobs runner at start-up."""

from jobs.registry import JobHandler, register

from . import services

register(
    JobHandler(
        name=services.ACCOUNTS_IMPORT,
        plan=services.import_plan,
        prepare=None,
        apply=services.accounts_import_apply,
        on_success=services.after_accounts_import,
    )
)
register(
    JobHandler(
        name=services.OPPORTUNITIES_IMPORT,
        plan=services.import_plan,
        prepare=None,
        apply=services.opportunities_import_apply,
    )
)
register(
    JobHandler(
        name=services.REEVALUATE,
        plan=services.reevaluate_plan,
        prepare=services.reevaluate_prepare,
        apply=services.reevaluate_apply,
    )
)
