"""The one writer of receipts: issuing a movement's receipt stores its Receipt the first time
(audited: who issued it, for which movement) and returns the same row ever after."""
from django.db import IntegrityError, transaction

from core.audit import audit_record

from .codes import receipt_number
from .models import Receipt
from .movements import Movement


def receipt_issue(*, movement: Movement, actor) -> Receipt:
    """The receipt of `movement` (receipts.movements), created on first issue. Later issues,
    and a first issue racing another, return the stored row and write nothing."""
    existing = Receipt.objects.filter(kind=movement.kind, movement_id=movement.movement_id).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            receipt = Receipt.objects.create(
                merchant=movement.merchant, kind=movement.kind, movement_id=movement.movement_id,
                number=receipt_number(movement.kind, movement.movement_id, movement.business_date),
                amount=movement.amount, order_no=movement.order_no, business_date=movement.business_date,
                booked_at=movement.booked_at, payer_masked=movement.masked(movement.payers),
                payee_masked=movement.masked(movement.payees))
            audit_record(actor=actor, obj=receipt, action="issue", to_state="issued",
                         data={"kind": movement.kind, "movement": movement.movement_id, "number": receipt.number,
                               "order_no": movement.order_no, "amount": str(movement.amount)})
    except IntegrityError:  # issued by a concurrent request meanwhile
        return Receipt.objects.get(kind=movement.kind, movement_id=movement.movement_id)
    return receipt
