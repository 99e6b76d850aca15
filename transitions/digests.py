"""One digest e-mail per affected member and per manager of affected members, sent through
Django's mail backend when an activation's job has finished."""

from django.core.mail import EmailMessage, get_connection

from .selectors import impacts_of


def _lines_for(impact, *, you: bool) -> list[str]:
    subject = "You" if you else impact.member.name
    lines = [
        f"{subject}: {impact.accounts_in} account(s) moved in, {impact.accounts_out} moved out.",
    ]
    if impact.examples_in:
        lines.append("  Moved in: " + ", ".join(impact.examples_in[:10]))
    if impact.examples_out:
        lines.append("  Moved out: " + ", ".join(impact.examples_out[:10]))
    lines.append(
        f"  Open deals: {impact.deals_kept} kept, {impact.deals_out} moved to the new owner, "
        f"{impact.deals_in} moved in, {impact.deals_queued} waiting for a manager's decision."
    )
    return lines


def digest_messages(*, activation) -> list[EmailMessage]:
    """The digests of an activation, one per recipient (a member with an e-mail address)."""
    impacts = list(impacts_of(activation=activation))
    by_recipient: dict[int, dict] = {}
    for impact in impacts:
        own = by_recipient.setdefault(impact.member_id, {"member": impact.member, "reports": []})
        own["impact"] = impact
        manager = impact.member.manager
        if manager is not None and manager.pk != impact.member_id:
            by_recipient.setdefault(manager.pk, {"member": manager, "reports": []})[
                "reports"
            ].append(impact)
    plan = activation.plan
    header = [
        f"Territory plan {plan.name} is active from {activation.effective_at:%Y-%m-%d %H:%M %Z}"
        + (f", replacing {activation.previous_plan.name}." if activation.previous_plan else "."),
        f"Open deals: {activation.get_open_deals_display().lower()}.",
    ]
    if activation.overlap_days:
        header.append(
            f"Overlap: previous owners stay overlays on moved accounts for "
            f"{activation.overlap_days} day(s)."
        )
    messages = []
    for entry in by_recipient.values():
        member = entry["member"]
        if not member.email:
            continue
        body = [f"Hello {member.name},", "", *header, ""]
        if "impact" in entry:
            body += ["Your book:", *_lines_for(entry["impact"], you=True), ""]
        if entry["reports"]:
            body.append("Your team:")
            for impact in sorted(entry["reports"], key=lambda i: i.member.name):
                body += _lines_for(impact, you=False)
            body.append("")
        messages.append(
            EmailMessage(
                subject=f"[revorg] Plan {plan.name} is active: your book changes",
                body="\n".join(body),
                to=[member.email],
            )
        )
    return messages


def digests_send(*, activation) -> int:
    messages = digest_messages(activation=activation)
    if not messages:
        return 0
    return get_connection().send_messages(messages) or 0
