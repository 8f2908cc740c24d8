"""A shop with a funded buyer and a seller, and helpers that read a receipt PDF back."""
import io

import pytest
from pypdf import PdfReader

from ledger.services import withdrawals
from merchants.services.members import bank_card_add
from tests import factories as f


@pytest.fixture
def shop(db):
    merchant = f.active_merchant(legal_name="山东齐鲁优选电子商务有限公司")
    buyer = f.member(merchant, name="张三丰", id_number="110101199003071234")
    seller = f.member(merchant, name="李四商贸有限公司", kind="business", id_number=f.uscc())
    f.funded(buyer, "200000.00")
    return merchant, buyer, seller


def paid_withdrawal(merchant, member, amount="1500.00", order_no="W-1"):
    ops = f.ops()
    card = bank_card_add(member=member, actor=None, account_number="6222020200112233445",
                         account_name=member.name, bank_name="中国工商银行济南分行")
    withdrawal, _ = withdrawals.withdrawal_request(merchant=merchant, actor=None, member=member, amount=amount,
                                                   bank_card=card, order_no=order_no)
    withdrawals.withdrawal_process(withdrawal=withdrawal, actor=ops)
    return withdrawals.withdrawal_mark_paid(withdrawal=withdrawal, actor=ops, bank_reference="BR-77")


def pdf_text(content: bytes) -> str:
    """The text of every page, as a reader extracts it (whitespace removed: CJK has none to keep)."""
    assert content.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(content))
    return "".join("".join((page.extract_text() or "").split()) for page in reader.pages)
