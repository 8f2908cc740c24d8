"""API credentials: app ids and secrets, issued at activation and rotated with an overlap."""
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.actors import as_actor
from core.audit import audit_record
from core.errors import (
    InvalidState,
)
from core.permissions import require

from ..models import ApiSecret, Merchant
from .rows import locked


def new_app_id() -> str:
    return "jg" + secrets.token_hex(8)


def issue_secret(merchant: Merchant, actor) -> str:
    secret = secrets.token_urlsafe(32)
    ApiSecret.objects.create(merchant=merchant, secret=secret, created_by_id=as_actor(actor).user_id)
    return secret


@transaction.atomic
def credentials_rotate(*, merchant: Merchant, actor, reason: str = "") -> str:
    """Issue a new secret; the current ones stay valid for the configured overlap."""
    merchant = locked(Merchant, merchant.pk)
    actor = require(actor, "merchants.rotate_credentials", people_only=False)
    if merchant.status not in (Merchant.Status.ACTIVE, Merchant.Status.FROZEN):
        raise InvalidState(_("Only an active or frozen merchant has credentials to rotate."))
    overlap_ends = timezone.now() + timedelta(hours=settings.JIANGUAN["SECRET_ROTATION_OVERLAP_HOURS"])
    merchant.api_secrets.filter(expires_at__isnull=True).update(expires_at=overlap_ends)
    merchant.api_secrets.filter(expires_at__gt=overlap_ends).update(expires_at=overlap_ends)
    secret = issue_secret(merchant, actor)
    audit_record(actor=actor, obj=merchant, action="rotate_credentials", reason=reason,
                 data={"old_secrets_expire_at": overlap_ends.isoformat()})
    return secret


def valid_secrets(merchant: Merchant, *, now=None) -> list[str]:
    now = now or timezone.now()
    rows = merchant.api_secrets.filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now)).order_by("-id")
    return [row.secret for row in rows]
