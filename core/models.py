"""The audit trail: one append-only, hash-chained record per state change made by a person,
a platform or the system. The database refuses UPDATE and DELETE of these rows."""
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class AuditEvent(models.Model):
    created_at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("staff user"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="+",
    )
    actor_label = models.CharField(_("actor"), max_length=150)
    merchant_id = models.BigIntegerField(_("merchant"), null=True, blank=True, db_index=True)
    # The hash chain the record belongs to (core.audit): the merchant's id, 0 for the bank's own
    # records; NULL for records written before chains were split per merchant.
    chain = models.BigIntegerField(_("chain"), null=True, blank=True, editable=False)
    # Its lane in the chain (core.audit.lane_of: by object), so a merchant's appends of different
    # objects don't wait for each other; 0 for records written before lanes.
    lane = models.PositiveSmallIntegerField(_("lane"), default=0, editable=False)
    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    object_id = models.CharField(max_length=64)
    object_repr = models.CharField(_("object"), max_length=255)
    action = models.CharField(_("action"), max_length=64)
    from_state = models.CharField(_("from"), max_length=32, blank=True)
    to_state = models.CharField(_("to"), max_length=32, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    data = models.JSONField(_("details"), default=dict, blank=True)
    prev_hash = models.CharField(max_length=64, editable=False)
    hash = models.CharField(max_length=64, unique=True, editable=False)

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["-id"]
        indexes = [models.Index(fields=["content_type", "object_id", "id"], name="audit_object_idx"),
                   models.Index(fields=["chain", "id"], name="audit_chain_idx"),
                   models.Index(fields=["chain", "lane", "id"], name="audit_chain_lane_idx")]
        permissions = [("view_all_merchants", _("Can see every merchant (not only an assigned portfolio)"))]

    def __str__(self):
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_label} {self.action} {self.object_repr}"


# --- Platform API: replay protection and idempotency (core.api) ------------------------------

class UsedNonce(models.Model):
    """A nonce seen on a signed request, kept for its replay window (10 minutes). The unique
    constraint is the cross-process "seen once" check: the second INSERT fails."""

    scope = models.CharField(max_length=100)  # the app id ("channel:<app id>" for payment channels)
    nonce = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["scope", "nonce"], name="nonce_used_once_per_app")]

    def __str__(self):
        return f"{self.scope} {self.nonce}"


class IdempotencyRecord(models.Model):
    """One Idempotency-Key of one merchant. Inserted (status in_progress) in its own
    transaction before the work starts, so a concurrent duplicate hits the unique constraint;
    completed with the response the first request produced, which replays for 24 hours."""

    class Status(models.TextChoices):
        IN_PROGRESS = "in_progress", _("In progress")
        COMPLETED = "completed", _("Completed")

    merchant_id = models.BigIntegerField(_("merchant"))
    key = models.CharField(_("idempotency key"), max_length=64)
    fingerprint = models.CharField(max_length=64)  # SHA-256 of method, path and body
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=255)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.IN_PROGRESS)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    locked_at = models.DateTimeField(default=timezone.now)  # when the current owner started
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("idempotency record")
        verbose_name_plural = _("idempotency records")
        constraints = [
            models.UniqueConstraint(fields=["merchant_id", "key"], name="idempotency_key_unique_per_merchant"),
        ]

    def __str__(self):
        return f"{self.merchant_id}:{self.key} {self.status}"
