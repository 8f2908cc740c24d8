"""The RM's credit notifications in the admin: marked read by the person they were for."""
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.audit import audit_record
from core.errors import PermissionRefused
from core.permissions import require

from ..models import CreditNotification


@transaction.atomic
def credit_notification_mark_read(*, notification, actor) -> CreditNotification:
    actor = require(actor)
    notification = CreditNotification.objects.select_for_update(no_key=True).get(pk=notification.pk)
    if notification.recipient_id not in (None, actor.user.pk) and not actor.user.is_superuser:
        raise PermissionRefused(_("This notification is for someone else."))
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
        # Who saw the warning of an overdue bill, and when, is on record (core.audit's rule).
        audit_record(actor=actor, obj=notification, action="mark_read",
                     data={"kind": notification.kind, "bill": notification.bill_id})
    return notification
