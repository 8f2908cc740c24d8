"""The audit trail in staff's words: what a timeline shows for a record's events.

An audit record keeps codes (its action, the states before and after), so the chain's hash never
depends on a translation. A timeline shows them labelled: a workflow transition by its own label
(the button staff pressed), any other action by ACTION_LABELS, a state by the label of the
record's status field. An unknown code is shown as it is."""
from django.utils.translation import gettext_lazy as _

from .audit import timeline_for

# Actions that are not a django-fsm transition of the record they are written on.
ACTION_LABELS = {
    "accrue_penalty": _("Penalty interest accrued"),
    "acknowledge": _("Acknowledged"),
    "add_bank_card": _("Bank card added"),
    "alert_cleared": _("Alert cleared"),
    "alert_raised": _("Alert raised"),
    "announce": _("Announced"),
    "assess": _("Assessed"),
    "build": _("Built"),
    "challenge_confirm": _("One-time code confirmed"),
    "challenge_issue": _("One-time code sent"),
    "challenge_wrong_code": _("Wrong one-time code"),
    "channel_settled": _("Settled by the channel"),
    "close_after_payout_refused": _("Closing after payout refused"),
    "closing_payout": _("Closing payout"),
    "complaint_lookup": _("Complaint look-up"),
    "create": _("Created"),
    "drawdown": _("Drawdown"),
    "freeze": _("Frozen"),
    "import": _("Imported"),
    "import_refused": _("Import refused"),
    "integrity_check": _("Integrity check"),
    "issue": _("Issued"),
    "layout_create": _("Layout created"),
    "limit_change": _("Limit changed"),
    "mark_hot": _("Marked hot (credits without a row lock)"),
    "mark_ordinary": _("Marked ordinary"),
    "mark_read": _("Marked as read"),
    "match_to_deposit": _("Matched to a deposit"),
    "match_to_member": _("Matched to a member"),
    "match_to_withdrawal": _("Matched to a withdrawal"),
    "micro_deposit_paid": _("Micro-deposit paid"),
    "micro_deposit_returned": _("Micro-deposit returned"),
    "micro_deposit_sent": _("Micro-deposit sent"),
    "open": _("Opened"),
    "otp_enroll": _("Second factor enrolled"),
    "receive": _("Received"),
    "raise": _("Held for risk review"),
    "refund": _("Refunded"),
    "release": _("Released"),
    "repayment": _("Repayment"),
    "request": _("Requested"),
    "reserve_required": _("Required risk reserve set"),
    "result_file": _("Result file read"),
    "reverse": _("Reversed"),
    "risk_level": _("Risk level computed"),
    "rotate_credentials": _("Credentials rotated"),
    "set_business_day": _("Business day set"),
    "settle_channel": _("Settled against the channel's deposits"),
    "succeed": _("Credited"),
    "suspense_match_member": _("Suspense matched to a member"),
    "suspense_return": _("Returned from suspense"),
    "take_snapshot": _("Snapshot taken"),
    "unfreeze": _("Unfrozen"),
    "update": _("Updated"),
    "verify_bank_card": _("Bank card verified"),
    "webhook_resend": _("Webhook sent again"),
}


def transition_labels(model) -> dict[str, str]:
    """name -> label of the model's django-fsm transitions that carry one."""
    labels = {}
    for name in dir(model):
        meta = getattr(getattr(model, name, None), "_django_fsm", None)
        if meta is not None:
            label = next((t.custom["label"] for t in meta.transitions.values() if t.custom.get("label")), None)
            if label:
                labels[name] = label
    return labels


def state_labels(model) -> dict[str, str]:
    """value -> label of the model's fields with choices (its status is one of them)."""
    labels = {}
    for field in model._meta.get_fields():
        for value, label in getattr(field, "flatchoices", None) or ():
            labels.setdefault(str(value), label)
    return labels


def labelled_timeline(obj) -> list:
    """The record's audit events, oldest first, each with action_label, from_label and to_label."""
    model = type(obj)
    actions = {**ACTION_LABELS, **transition_labels(model)}
    states = state_labels(model)
    events = list(timeline_for(obj))
    for event in events:
        event.action_label = actions.get(event.action, event.action)
        event.from_label = states.get(event.from_state, event.from_state)
        event.to_label = states.get(event.to_state, event.to_state)
    return events
