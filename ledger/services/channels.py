"""Payment channels (多渠道接入): operations register a channel and its signing secret. The
secret is write-only: stored encrypted, never shown back, never written to the audit trail."""
from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from core.audit import audit_record
from core.errors import Duplicate, ValidationFailed
from core.permissions import require

from ..models import PaymentChannel


def _clean(code=None, name=None, app_id=None):
    for field, value in (("code", code), ("name", name), ("app_id", app_id)):
        if value is not None and not value.strip():
            raise ValidationFailed(_("This field is required."), field=field)


@transaction.atomic
def payment_channel_create(*, actor, code: str, name: str, app_id: str, secret: str,
                           enabled: bool = True, settlement_account: str = "") -> PaymentChannel:
    actor = require(actor, "ledger.add_paymentchannel", people_only=False)
    _clean(code, name, app_id)
    if not (secret or "").strip():
        raise ValidationFailed(_("The signing secret is required."), field="secret")
    channel = PaymentChannel(code=code.strip(), name=name.strip(), app_id=app_id.strip(), secret=secret.strip(),
                             enabled=enabled, settlement_account=(settlement_account or "").strip())
    try:
        with transaction.atomic():
            channel.save(force_insert=True)
    except IntegrityError:
        raise Duplicate(_("A channel with this code or app id already exists.")) from None
    audit_record(actor=actor, obj=channel, action="create", to_state="enabled" if enabled else "disabled",
                 data={"code": channel.code, "app_id": channel.app_id,
                       "settlement_account": channel.settlement_account})
    return channel


@transaction.atomic
def payment_channel_update(*, channel, actor, name: str | None = None, app_id: str | None = None,
                           secret: str | None = None, enabled: bool | None = None,
                           settlement_account: str | None = None) -> PaymentChannel:
    """None leaves a field as it is; a non-empty secret replaces the old one."""
    actor = require(actor, "ledger.change_paymentchannel", people_only=False)
    _clean(name=name, app_id=app_id)
    channel = PaymentChannel.objects.select_for_update(no_key=True).get(pk=channel.pk)
    before = "enabled" if channel.enabled else "disabled"
    changed = []
    for field, value in (("name", name), ("app_id", app_id), ("enabled", enabled),
                         ("settlement_account", settlement_account)):
        if value is not None:
            value = value.strip() if isinstance(value, str) else value
            if getattr(channel, field) != value:
                setattr(channel, field, value)
                changed.append(field)
    if secret and secret.strip():
        channel.secret = secret.strip()
        changed.append("secret")
    if not changed:
        return channel
    try:
        with transaction.atomic():
            channel.save(update_fields=changed)
    except IntegrityError:
        raise Duplicate(_("A channel with this app id already exists."), field="app_id") from None
    audit_record(actor=actor, obj=channel, action="update", from_state=before,
                 to_state="enabled" if channel.enabled else "disabled",
                 data={"changed": changed, "app_id": channel.app_id,
                       "settlement_account": channel.settlement_account})
    return channel
