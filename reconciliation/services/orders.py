"""The platform's order file for a business date (API `POST /reconciliation/order-files`, or a
CSV upload with the same columns in the admin). All or nothing: one bad order refuses the file
and every problem is reported. A later file for the same date supersedes the earlier one."""
import csv
import datetime
import io
from decimal import Decimal

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from core.actors import as_actor
from core.audit import audit_record
from core.errors import ApplicationError, ValidationFailed
from core.money import parse_amount

from ..models import OrderFile, OrderFileLine, OrderType
from ..parsing import StatementFileError, detect_encoding

CSV_COLUMNS = ("order_no", "type", "amount", "payer_user_id", "payee_user_id")
MAX_REPORTED_ERRORS = 200
_CHUNK = 5000


def parse_business_date(value) -> datetime.date:
    if isinstance(value, datetime.date):
        return value
    try:
        return datetime.date.fromisoformat(str(value or "").strip())
    except ValueError:
        raise ValidationFailed(_("Write the business date as YYYY-MM-DD."), field="business_date") from None


@transaction.atomic
def order_file_create(*, merchant, actor, business_date, orders, source: str = OrderFile.Source.API,
                      file_name: str = "") -> OrderFile:
    """orders: an iterable of mappings with order_no, type, amount, payer_user_id, payee_user_id."""
    actor = as_actor(actor)
    business_date = parse_business_date(business_date)
    order_file = OrderFile.objects.create(
        merchant=merchant, business_date=business_date, source=source, file_name=file_name[:255],
        uploaded_by=actor.user, actor_label=actor.label[:150],
    )
    errors: list[str] = []
    bad_amounts: list[int] = []
    seen: set[tuple[str, str]] = set()
    pending: list[OrderFileLine] = []
    count, total = 0, Decimal("0.00")
    if isinstance(orders, (str, bytes)) or not hasattr(orders, "__iter__"):
        raise ValidationFailed(_("“orders” must be a list."), field="orders")
    for number, order in enumerate(orders, start=1):
        line = _order_line(order_file, order, number, errors, seen, bad_amounts)
        if line is None or errors:
            continue
        pending.append(line)
        count, total = count + 1, total + line.amount
        if len(pending) >= _CHUNK:
            OrderFileLine.objects.bulk_create(pending)
            pending = []
    if errors:
        shown = errors[:MAX_REPORTED_ERRORS]
        if len(errors) > len(shown):
            shown.append(str(_("… and %(n)s more.") % {"n": len(errors) - len(shown)}))
        # A bad amount answers invalid_amount, as everywhere in the API (API.md, Money).
        raise ValidationFailed(_("The order file was refused: %(n)s order(s) can't be read.") % {"n": len(errors)},
                               code="invalid_amount" if bad_amounts else None, details={"orders": shown})
    OrderFileLine.objects.bulk_create(pending)
    OrderFile.objects.filter(merchant=merchant, business_date=business_date).exclude(pk=order_file.pk).update(
        status=OrderFile.Status.SUPERSEDED)
    order_file.line_count, order_file.total_amount = count, total
    order_file.save(update_fields=["line_count", "total_amount"])
    audit_record(actor=actor, obj=order_file, action="receive",
                 data={"business_date": business_date.isoformat(), "orders": count, "total": str(total),
                       "source": source})
    return order_file


def _order_line(order_file, order, number, errors, seen, bad_amounts) -> OrderFileLine | None:
    if not isinstance(order, dict):
        errors.append(str(_("Order %(n)s: not an object.") % {"n": number}))
        return None
    problems = []
    order_no = str(order.get("order_no") or "").strip()
    if not order_no or len(order_no) > 64:
        problems.append(str(_("an order number of 1 to 64 characters is required")))
    order_type = str(order.get("type") or order.get("order_type") or "").strip().lower()
    if order_type not in OrderType.values:
        problems.append(str(_("type must be one of %(types)s") % {"types": ", ".join(OrderType.values)}))
    amount = None
    try:
        amount = parse_amount(order.get("amount"))
    except ApplicationError as err:
        problems.append(str(err.message))
        bad_amounts.append(number)
    payer, payee = (str(order.get(k) or "").strip() for k in ("payer_user_id", "payee_user_id"))
    if len(payer) > 64 or len(payee) > 64:
        problems.append(str(_("user ids have at most 64 characters")))
    if any(ord(ch) < 32 or ord(ch) == 127 for text in (order_no, order_type, payer, payee) for ch in text):
        problems.append(str(_("control characters are not allowed")))
    if not problems and (order_type, order_no) in seen:
        problems.append(str(_("the same order appears twice")))
    if problems:
        errors.append(str(_("Order %(n)s (%(order_no)s): %(problems)s.")
                          % {"n": number, "order_no": order_no or "?", "problems": "; ".join(problems)}))
        return None
    seen.add((order_type, order_no))
    return OrderFileLine(merchant_id=order_file.merchant_id, order_file=order_file, order_type=order_type,
                         order_no=order_no, amount=amount, payer_user_id=payer, payee_user_id=payee)


def order_file_from_csv(*, merchant, actor, business_date, data: bytes, source=OrderFile.Source.ADMIN,
                        file_name: str = "") -> OrderFile:
    """The same columns as the JSON body (order_no, type, amount, payer_user_id, payee_user_id);
    UTF-8 (with or without BOM) or GBK. Amounts are plain decimals, as in the API."""
    if not data or not data.strip():
        raise ValidationFailed(_("The file is empty."), field="file")
    try:
        encoding = detect_encoding(data[:65536])
    except StatementFileError as err:
        raise ValidationFailed(err.message, field="file") from None
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError:
        raise ValidationFailed(_("The file is neither UTF-8 nor GBK text."), field="file") from None
    reader = csv.DictReader(io.StringIO(text))
    header = [(h or "").strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in ("order_no", "type", "amount") if c not in header]
    if missing:
        raise ValidationFailed(_("Missing column(s): %(names)s. Expected: %(expected)s.")
                               % {"names": ", ".join(missing), "expected": ", ".join(CSV_COLUMNS)}, field="file")
    reader.fieldnames = header
    rows = ({k: (v or "") for k, v in row.items() if k} for row in reader if any((v or "").strip()
                                                                                  for v in row.values() if isinstance(v, str)))
    return order_file_create(merchant=merchant, actor=actor, business_date=business_date, orders=rows,
                             source=source, file_name=file_name)
