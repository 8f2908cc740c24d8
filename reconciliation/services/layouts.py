"""Statement layouts: the one writer of StatementLayout rows (the admin's save calls it)."""
from django.db import transaction
from django.utils import timezone

from core.actors import as_actor
from core.audit import audit_record

from ..models import StatementLayout


@transaction.atomic
def statement_layout_save(*, layout: StatementLayout, actor, changed: list[str] | None = None) -> StatementLayout:
    """Validate and save a layout (new or edited), with an audit record of what it now says:
    a layout decides how money columns are read, so every change is on record."""
    actor = as_actor(actor)
    created = layout.pk is None
    layout.full_clean()
    layout.updated_at = timezone.now()
    layout.save()
    audit_record(actor=actor, obj=layout, action="layout_create" if created else "layout_change",
                 data={"changed": changed or [], "layout": layout.as_data() | {"active": layout.active}})
    return layout
