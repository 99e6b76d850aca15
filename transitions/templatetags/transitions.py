"""`{% activation_panel plan %}`: the plan page's activation form, schedule and history,
rendered by this app so that territories' views need not know about transitions."""

from django import template

from ..models import OpenDealPolicy

register = template.Library()
ACTIVATIONS_SHOWN = 20


@register.inclusion_tag("transitions/_activation_panel.html", takes_context=True)
def activation_panel(context, plan):
    activations = list(
        plan.activations.select_related("job", "previous_plan").order_by("-requested_at", "-id")[
            :ACTIVATIONS_SHOWN
        ]
    )
    latest = next((a for a in activations if a.job_id), None)
    return {
        "plan": plan,
        "request": context.get("request"),
        "csrf_token": context.get("csrf_token"),
        "current_role": context.get("current_role"),
        "activations": activations,
        "latest_job": latest.job if latest else None,
        "policies": OpenDealPolicy.choices,
    }
