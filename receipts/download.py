"""One download, whoever asks (a platform through the API, staff in the admin): issue the
movement's receipt (stored on first issue) and answer its PDF."""
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpResponse
from django.urls import reverse

from .codes import verification_code
from .pdf import ensure_font, render_receipt
from .services import receipt_issue


def verify_url(request, receipt) -> str:
    """The public verification page for this receipt, number and code filled in (the QR code's
    target). JIANGUAN["PUBLIC_BASE_URL"] when set (the address the public reaches), else this host."""
    path = reverse("receipts:verify") + "?" + urlencode(
        {"no": receipt.number, "code": verification_code(receipt.number, receipt.amount)})
    base = (settings.JIANGUAN.get("PUBLIC_BASE_URL") or "").rstrip("/")
    return f"{base}{path}" if base else request.build_absolute_uri(path)


def pdf_response(request, movement, *, actor) -> HttpResponse:
    ensure_font()  # before anything is stored: a server without the font issues nothing
    receipt = receipt_issue(movement=movement, actor=actor)
    body = render_receipt(receipt=receipt, movement=movement, verify_url=verify_url(request, receipt))
    response = HttpResponse(body, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="receipt-{receipt.number}.pdf"'
    response["X-Receipt-Number"] = receipt.number
    response["Cache-Control"] = "private, no-store"
    return response
