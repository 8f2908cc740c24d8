"""Statement files as banks really send them, built in the tests (no fixture files)."""

from ledger.services import deposits
from tests import factories

ENGLISH_HEADER = "bank_reference,value_date,amount,counterparty_name,counterparty_account,counterparty_bank,remark,balance"


def english(rows, *, header=ENGLISH_HEADER, bom=False, footer="") -> bytes:
    """rows: tuples in ENGLISH_HEADER order (strings)."""
    lines = [header] + [",".join(_quote(cell) for cell in row) for row in rows]
    text = "\r\n".join(lines) + "\r\n" + footer
    return (b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8")


def gbk_debit_credit(rows, *, title=True, summary=True, account="") -> bytes:
    """A GBK export with Chinese headers, title lines and separate 借方/贷方 columns.
    rows: (流水号, 交易日期, 借方发生额, 贷方发生额, 对方户名, 对方账号, 摘要, 余额).
    account: the account number the title states (it must be the supervision account's)."""
    lines = []
    if title:
        lines += ["某某银行账户交易明细", f"账号：{account},,,,,,," if account else "币种：人民币,,,,,,,", ""]
    lines.append("交易日期,流水号,借方发生额,贷方发生额,对方户名,对方账号,摘要,余额")
    for ref, day, debit, credit, name, account, remark, balance in rows:
        lines.append(",".join(_quote(c) for c in (day, ref, debit, credit, name, account, remark, balance)))
    if summary:
        lines.append("合计,,,,,,,")
    return ("\r\n".join(lines) + "\r\n").encode("gbk")


def _quote(cell: str) -> str:
    cell = str(cell)
    return f'"{cell}"' if ("," in cell or '"' in cell) else cell


def announce(merchant, member, amount, order_no):
    return deposits.deposit_announce(merchant=merchant, actor=None, member=member, amount=amount,
                                     order_no=order_no, method="offline_transfer")


def verified_card(member, *, name=None, number="6222020200112233445"):
    from merchants.models import BankCard

    card = BankCard(merchant_id=member.merchant_id, member=member, account_name=name or member.name,
                    bank_name="ICBC", verified=True)
    card.set_number(number)
    card.save()
    return card


def funded(merchant, member, amount):
    """tests.factories.funded (an announced deposit credited on a statement line, proof FUND-n),
    in the reconciliation tests' argument order, which names the merchant: the member's own."""
    assert member.merchant_id == merchant.pk, "the member belongs to another merchant"
    return factories.funded(member, amount)


def withdrawal(merchant, member, amount, order_no, *, status="paid", bank_reference=""):
    """A withdrawal as the ledger leaves it (plain setup: the withdrawal workflow is tested in
    the ledger). A paid one has left the supervision account."""
    from decimal import Decimal

    from django.db import transaction

    from ledger.models import AccountKind, EntryType, Withdrawal
    from ledger.posting import Leg, Order, post_entry
    from ledger.services.accounts import member_accounts, platform_account

    amount = Decimal(amount)
    card = verified_card(member, number="6217000010012345678")
    with transaction.atomic():
        w = Withdrawal.objects.create(merchant=merchant, member=member, bank_card=card, amount=amount,
                                      order_no=order_no, status=status, value_date="2026-11-24",
                                      bank_reference=bank_reference)
        available, _frozen = member_accounts(member)
        if status == "paid":
            booked = post_entry(
                merchant=merchant, entry_type=EntryType.WITHDRAWAL_PAID, idempotency_ref=f"withdrawal:{w.pk}:paid",
                legs=[Leg(available, -amount), Leg(platform_account(merchant, AccountKind.SUPERVISION), -amount,
                                                  check=False)],
                actor=None, order=Order(order_no=order_no, payer_id=member.pk, amount=amount))
            w.final_entry = booked.entry
            w.save()
    return w


def payment(merchant, payer, payee, amount, order_no, business_date, entry_type="payment"):
    """A settled payment as the ledger books it (plain setup through the posting engine)."""
    from decimal import Decimal

    from django.db import transaction

    from ledger.posting import Leg, Order, post_entry
    from ledger.services.accounts import member_accounts

    amount = Decimal(amount)
    with transaction.atomic():
        return post_entry(
            merchant=merchant, entry_type=entry_type, idempotency_ref=f"test-payment:{order_no}:{entry_type}",
            legs=[Leg(member_accounts(payer)[0], -amount), Leg(member_accounts(payee)[0], amount)], actor=None,
            order=Order(order_no=order_no, payer_id=payer.pk, payee_id=payee.pk, amount=amount),
            business_date=business_date,
        ).entry
