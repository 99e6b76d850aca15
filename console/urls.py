from django.urls import path

from allocation import views as allocation_views
from analytics import views as analytics_views
from book import views as book_views
from capacities import views as capacity_views
from crm_sync import views as crm_views
from geo import views as geo_views
from governance import views as governance_views
from jobs import views as job_views
from members import views as member_views
from notifications import views as notification_views
from planning import views as planning_views
from reassignments import views as reassignment_views
from replay import views as replay_views
from revorg import views
from sla import views as sla_views
from territories import lock_views
from territories import views as territory_views
from transitions import views as transition_views

from . import views as console_views
from .csv_urls import urlpatterns as csv_urlpatterns

app_name = "ui"

urlpatterns = [
    *csv_urlpatterns,  # members/import/, territories/export/, …
    path("", console_views.dashboard, name="dashboard"),
    path("workspace/switch/", views.workspace_switch, name="workspace-switch"),
    path("settings/", console_views.workspace_settings, name="workspace-settings"),
    path("preferences/timezone/", views.viewer_timezone, name="viewer-timezone"),
    path("api-keys/", views.api_key_list, name="api-keys"),
    path("api-keys/<int:pk>/revoke/", views.api_key_revoke, name="api-key-revoke"),
    path("users/", governance_views.user_index, name="users"),
    path("users/<int:pk>/", governance_views.user_change, name="user-change"),
    path(
        "users/<int:pk>/resend-invitation/",
        governance_views.user_resend_invitation,
        name="user-resend-invitation",
    ),
    path("members/", member_views.member_index, name="members"),
    path("members/new/", member_views.member_create, name="member-new"),
    path("members/<int:pk>/", member_views.member_detail, name="member-detail"),
    path("members/<int:pk>/activation/", member_views.member_activation, name="member-activation"),
    path("members/<int:pk>/absences/", member_views.absence_add, name="absence-add"),
    path(
        "members/<int:pk>/working-hours/",
        member_views.working_hours_save,
        name="member-working-hours",
    ),
    path(
        "members/<int:pk>/absences/<int:absence_pk>/delete/",
        member_views.absence_delete,
        name="absence-delete",
    ),
    path("territories/", territory_views.territory_index, name="territories"),
    path("territories/new/", territory_views.territory_builder, name="territory-new"),
    path("territories/<int:pk>/", territory_views.territory_builder, name="territory-edit"),
    path(
        "territories/plans/<int:pk>/activate/",
        transition_views.plan_activate,
        name="plan-activate",
    ),
    path(
        "territories/plans/<int:pk>/unschedule/",
        transition_views.plan_unschedule,
        name="plan-unschedule",
    ),
    path("transitions/moves/", transition_views.move_queue, name="transition-moves"),
    path(
        "transitions/moves/<int:pk>/apply/",
        transition_views.move_apply,
        name="transition-move-apply",
    ),
    path(
        "transitions/moves/<int:pk>/dismiss/",
        transition_views.move_dismiss,
        name="transition-move-dismiss",
    ),
    path("territories/plans/<int:pk>/clone/", territory_views.plan_clone, name="plan-clone"),
    path("territories/plans/<int:pk>/rename/", territory_views.plan_rename, name="plan-rename"),
    path("territories/plans/<int:pk>/delete/", territory_views.plan_delete, name="plan-delete"),
    path("territories/plans/<int:pk>/replay/", replay_views.plan_replay, name="plan-replay"),
    path(
        "territories/plans/<int:pk>/replay/<int:job_pk>/",
        replay_views.plan_replay_result,
        name="plan-replay-result",
    ),
    path(
        "territories/plans/<int:pk>/replay/<int:job_pk>/moves.csv",
        replay_views.plan_replay_moves_csv,
        name="plan-replay-moves",
    ),
    path("territories/plans/<int:pk>/compare/", planning_views.plan_compare, name="plan-compare"),
    path(
        "territories/plans/<int:pk>/simulate/", planning_views.plan_simulate, name="plan-simulate"
    ),
    path(
        "territories/plans/<int:pk>/rebalance/",
        planning_views.plan_rebalance_accept,
        name="plan-rebalance-accept",
    ),
    path("territories/<int:pk>/delete/", territory_views.territory_delete, name="territory-delete"),
    path(
        "territories/test-record/",
        territory_views.territory_test_record,
        name="territory-test-record",
    ),
    path("account-locks/", lock_views.account_lock_index, name="account-locks"),
    path("account-locks/new/", lock_views.account_lock_create, name="account-lock-new"),
    path(
        "account-locks/<int:pk>/delete/",
        lock_views.account_lock_delete,
        name="account-lock-delete",
    ),
    path("capacities/", capacity_views.capacity_index, name="capacities"),
    path("capacities/new/", capacity_views.capacity_save, name="capacity-new"),
    path(
        "capacities/member-options/",
        capacity_views.capacity_member_options,
        name="capacity-member-options",
    ),
    path("capacities/<int:pk>/", capacity_views.capacity_save, name="capacity-edit"),
    path("capacities/<int:pk>/delete/", capacity_views.capacity_delete, name="capacity-delete"),
    path("crm/", crm_views.crm_index, name="crm"),
    path("crm/<int:pk>/test/", crm_views.crm_test, name="crm-test"),
    path("crm/<int:pk>/sync/", crm_views.crm_sync_now, name="crm-sync"),
    path("crm/<int:pk>/reconnect/", crm_views.crm_reconnect, name="crm-reconnect"),
    path("crm/<int:pk>/field-mapping/", crm_views.crm_field_mapping, name="crm-field-mapping"),
    path("crm/<int:pk>/sync-book/", crm_views.crm_sync_book, name="crm-sync-book"),
    path("crm/<int:pk>/delete/", crm_views.crm_delete, name="crm-delete"),
    path("crm/runs/<int:pk>/", crm_views.sync_run_detail, name="sync-run"),
    path("allocations/", allocation_views.allocation_index, name="allocations"),
    path("allocations/<int:pk>/", allocation_views.allocation_detail, name="allocation-detail"),
    path(
        "allocations/writeback/retry-failed/",
        allocation_views.writeback_retry_failed,
        name="writeback-retry-failed",
    ),
    path(
        "allocations/<int:pk>/writeback/retry/",
        allocation_views.writeback_retry,
        name="writeback-retry",
    ),
    path("jobs/", job_views.job_index, name="jobs"),
    path("jobs/<int:pk>/", job_views.job_detail, name="job"),
    path("jobs/<int:pk>/cancel/", job_views.job_cancel, name="job-cancel"),
    path("accounts/", book_views.account_index, name="accounts"),
    path("accounts/<int:pk>/", book_views.account_detail, name="account"),
    path("accounts/import/<str:kind>/", book_views.book_import, name="book-import"),
    path("accounts/reevaluate/", book_views.book_reevaluate, name="book-reevaluate"),
    path("coverage/", book_views.coverage, name="coverage"),
    path("performance/", analytics_views.compare, name="performance"),
    path("queue/", sla_views.my_queue, name="my-queue"),
    path("sla/policies/", sla_views.sla_policy_index, name="sla-policies"),
    path("sla/policies/new/", sla_views.sla_policy_save, name="sla-policy-new"),
    path("sla/policies/<int:pk>/", sla_views.sla_policy_save, name="sla-policy-edit"),
    path("sla/policies/<int:pk>/delete/", sla_views.sla_policy_delete, name="sla-policy-delete"),
    path("queue/<int:pk>/accept/", sla_views.queue_accept, name="queue-accept"),
    path("reassignments/", reassignment_views.request_index, name="reassignments"),
    path("reassignments/new/", reassignment_views.request_create, name="reassignment-new"),
    path(
        "reassignments/<int:pk>/<str:verb>/",
        reassignment_views.request_decide,
        name="reassignment-decide",
    ),
    path("webhooks/", notification_views.webhook_index, name="webhooks"),
    path("webhooks/<int:pk>/", notification_views.webhook_detail, name="webhook"),
    path("webhooks/<int:pk>/toggle/", notification_views.webhook_toggle, name="webhook-toggle"),
    path("webhooks/<int:pk>/delete/", notification_views.webhook_delete, name="webhook-delete"),
    path(
        "webhooks/<int:pk>/deliveries/<int:delivery_pk>/redeliver/",
        notification_views.webhook_redeliver,
        name="webhook-redeliver",
    ),
    path(
        "preferences/notifications/",
        notification_views.notification_preferences,
        name="notification-preferences",
    ),
    path("reports/exceptions/", notification_views.exception_report, name="exception-report"),
    path("map/", geo_views.map_page, name="map"),
]
