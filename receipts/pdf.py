"""The receipt as a PDF (reportlab), in Simplified Chinese whatever the reader's language: the
bank's name, the kind, number, dates, the parties, the amount in figures and in capitals, the
order number, and the verification code beside a QR code of the verification page's address.

The CJK font is WenQuanYi Micro Hei from Debian's fonts-wqy-microhei (JIANGUAN["RECEIPT_FONT"]
to use another TrueType file), embedded as a subset: the PDF renders the same on any reader,
and nothing is downloaded at run time. A missing font is a configuration error that names the
package (and `manage.py check` warns about it, receipts.W001)."""
import io
from pathlib import Path
from zoneinfo import ZoneInfo

import qrcode
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import translation
from django.utils.translation import gettext as _
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import (
    Flowable,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)
from reportlab.platypus.tables import LongTable

from core.admin_display import money

from .amount_words import amount_in_words
from .codes import verification_code

DEFAULT_FONT = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"
FONT_NAME = "JianguanReceiptCJK"
BANK_ZONE = ZoneInfo("Asia/Shanghai")


def font_path() -> Path:
    return Path(settings.JIANGUAN.get("RECEIPT_FONT") or DEFAULT_FONT)


def ensure_font() -> str:
    if FONT_NAME in pdfmetrics.getRegisteredFontNames():
        return FONT_NAME
    path = font_path()
    if not path.is_file():
        raise ImproperlyConfigured(
            f"The receipt font {path} is missing: install Debian's fonts-wqy-microhei "
            "(apt-get install fonts-wqy-microhei) or set JIANGUAN_RECEIPT_FONT to a TrueType font with Chinese.")
    pdfmetrics.registerFont(TTFont(FONT_NAME, str(path), subfontIndex=0))
    return FONT_NAME


class QRCode(Flowable):
    """The modules of a QR code (the `qrcode` package's matrix) drawn as vector squares."""

    def __init__(self, data: str, size: float):
        super().__init__()
        code = qrcode.QRCode(border=0, error_correction=qrcode.constants.ERROR_CORRECT_M)
        code.add_data(data)
        code.make(fit=True)
        self.matrix = code.get_matrix()
        self.width = self.height = size

    def draw(self):
        n = len(self.matrix)
        cell = self.width / n
        self.canv.setFillColor(colors.black)
        for row, cells in enumerate(self.matrix):
            for col, dark in enumerate(cells):
                if dark:
                    self.canv.rect(col * cell, (n - 1 - row) * cell, cell, cell, stroke=0, fill=1)


def _styles(font):
    base = ParagraphStyle("base", fontName=font, fontSize=9, leading=12, wordWrap="CJK")
    return {
        "base": base,
        "bank": ParagraphStyle("bank", parent=base, fontSize=15, leading=19, alignment=1),
        "title": ParagraphStyle("title", parent=base, fontSize=12, leading=16, alignment=1),
        "label": ParagraphStyle("label", parent=base, textColor=colors.HexColor("#333333")),
        "num": ParagraphStyle("num", parent=base, alignment=2),
        "small": ParagraphStyle("small", parent=base, fontSize=7.5, leading=10, textColor=colors.HexColor("#444444")),
    }


def _esc(text) -> str:
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _time(value) -> str:
    return value.astimezone(BANK_ZONE).strftime("%Y-%m-%d %H:%M:%S")


def render_receipt(*, receipt, movement, verify_url: str) -> bytes:
    """The PDF of `receipt` (a receipts.models.Receipt) for `movement` (receipts.movements.Movement)."""
    font = ensure_font()
    with translation.override("zh-hans"):
        return _build(receipt, movement, verify_url, font)


def _build(receipt, movement, verify_url, font) -> bytes:
    st = _styles(font)
    bank = settings.JIANGUAN["SUPERVISION_BANK_NAME"]
    P = lambda text, style="base": Paragraph(_esc(text), st[style])
    code = verification_code(receipt.number, receipt.amount)
    width = A4[0] - 30 * mm

    title = _("Electronic receipt")
    head = [P(bank, "bank"), P(f"{title}（{movement.kind_label}）", "title"), Spacer(1, 3 * mm)]
    beijing = _("(Beijing time)")
    facts = Table([
        [P(_("Receipt number")), P(receipt.number), P(_("Business date")), P(f"{receipt.business_date:%Y-%m-%d}")],
        [P(_("Order number")), P(receipt.order_no), P(_("Booked at")), P(f"{_time(receipt.booked_at)} {beijing}")],
        [P(_("Platform")), P(f"{movement.merchant.legal_name}（{movement.merchant.code}）"), "", ""],
    ], colWidths=[24 * mm, width / 2 - 24 * mm, 24 * mm, width / 2 - 24 * mm])
    facts.setStyle(TableStyle([("SPAN", (1, 2), (3, 2)), *_grid()]))

    rows = [[P(_("Party")), P(_("Name")), P(_("Account / identity")), P(_("Amount (CNY)"), "num")]]
    for role, parties in ((_("Payer"), movement.payers), (_("Payee"), movement.payees)):
        for party in parties:
            rows.append([P(role), P(party.name), P(party.detail),
                         P(money(party.amount) if party.amount is not None else "", "num")])
    parties = LongTable(rows, colWidths=[18 * mm, 52 * mm, width - 100 * mm, 30 * mm], repeatRows=1)
    parties.setStyle(TableStyle([("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee")), *_grid()]))

    amounts = Table([
        [P(_("Amount (figures)")), P(f"CNY {money(receipt.amount)}")],
        [P(_("Amount (in words)")), P(f"人民币{amount_in_words(receipt.amount)}")],
        *[[P(label), P(value)] for label, value in movement.lines],
    ], colWidths=[34 * mm, width - 34 * mm])
    amounts.setStyle(TableStyle(_grid()))

    qr_size = 28 * mm
    code_label = _("Verification code")
    verify = Table([[
        QRCode(verify_url, qr_size),
        [P(f"{code_label}：{code}"), Spacer(1, 1.5 * mm),
         P(_("Scan the code, or open the address below and enter the receipt number and the "
             "verification code, to check that this receipt is genuine."), "small"),
         P(verify_url, "small")],
    ]], colWidths=[qr_size + 4 * mm, width - qr_size - 4 * mm])
    verify.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (0, 0), 0)]))

    foot = P(_("Issued %(at)s from the supervision ledger of %(bank)s. Receipts issued again for the same "
               "movement carry the same number.") % {"at": _time(receipt.issued_at), "bank": bank}, "small")

    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=15 * mm, rightMargin=15 * mm, topMargin=15 * mm,
                            bottomMargin=15 * mm, title=f"{title} {receipt.number}",
                            author=bank, subject=receipt.order_no, creator="Jianguan")
    gap = Spacer(1, 3 * mm)
    doc.build([*head, facts, gap, parties, gap, amounts, gap, verify, gap, foot])
    return buffer.getvalue()


def _grid():
    return [("GRID", (0, 0), (-1, -1), 0.5, colors.HexColor("#888888")), ("VALIGN", (0, 0), (-1, -1), "MIDDLE")]
