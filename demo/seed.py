"""Demo data for the quick start: staff per role, two active merchants with members,
balances and some history. Everything goes through the services, as in production."""
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction

from core.roles import AUDITOR, OPERATIONS, RELATIONSHIP_MANAGER, RISK_OFFICER
from merchants.models import BankCard, BusinessType, Member, Merchant, RiskLevel
from merchants.services.credentials import valid_secrets
from merchants.services.lifecycle import (
    merchant_activate,
    merchant_approve,
    merchant_create,
    merchant_submit,
)
from merchants.services.members import (
    bank_card_add,
    bank_card_verify,
    member_create,
)
from merchants.uscc import make_uscc
from payouts.services.answers import payout_batch_apply_result
from payouts.services.batches import (
    payout_batch_build,
    payout_batch_release,
    payout_batch_submit,
)

from .history import add_history

STAFF = [
    ("rm_wang", RELATIONSHIP_MANAGER, "王经理"),
    ("rm_li", RELATIONSHIP_MANAGER, "李经理"),
    ("risk_zhao", RISK_OFFICER, "赵风控"),
    ("risk_sun", RISK_OFFICER, "孙风控"),
    ("ops_chen", OPERATIONS, "陈运营"),
    ("ops_liu", OPERATIONS, "刘运营"),  # the second person who approves and releases payout batches
    ("audit_zhou", AUDITOR, "周审计"),
]
ADMIN = ("admin", "superuser", "系统管理员")

MERCHANTS = [
    dict(code="qilu-mall", legal_name="齐鲁优选电子商务有限公司", uscc=make_uscc("91370100MA3C4XK2"[:17].ljust(17, "0")),
         business_type=BusinessType.B2C_MALL, contact_name="张伟", contact_phone="0531-86001234",
         risk_level=RiskLevel.LOW, rm="rm_wang",
         members=[("qm-buyer-001", "张三", "individual", ("buyer",)), ("qm-buyer-002", "李四", "individual", ("buyer",)),
                  ("qm-shop-001", "济南好物专营店", "business", ("seller",)),
                  ("qm-shop-002", "泰山特产旗舰店", "business", ("seller",)),
                  ("qm-shop-003", "王记煎饼（个体）", "individual", ("seller",))]),
    dict(code="huanghe-grain", legal_name="黄河粮食交易市场有限公司", uscc=make_uscc("91370800MA94PRQ1"[:17].ljust(17, "0")),
         business_type=BusinessType.B2B_EXCHANGE, contact_name="刘洋", contact_phone="0537-2226789",
         risk_level=RiskLevel.MEDIUM, rm="rm_li",
         members=[("hh-buyer-001", "菏泽面粉厂", "business", ("buyer",)), ("hh-buyer-002", "王五", "individual", ("buyer",)),
                  ("hh-seller-001", "鲁西南粮油合作社", "business", ("seller",)),
                  ("hh-seller-002", "赵六", "individual", ("seller",))]),
]


def password_for(username: str) -> str:
    return f"{username}-Demo-2026!"


def _user(username, role, display):
    User = get_user_model()
    user, created = User.objects.get_or_create(username=username, defaults={"first_name": display, "is_staff": True})
    if created:
        user.set_password(password_for(username))
        if role == "superuser":
            user.is_superuser = True
        user.save()
    if role != "superuser":
        user.groups.add(Group.objects.get(name=role))
    return user


@transaction.atomic
def seed() -> dict:
    users = {name: _user(name, role, display) for name, role, display in STAFF + [ADMIN]}
    result = {"merchants": [], "staff": [
        {"username": name, "password": password_for(name), "role": role} for name, role, _ in STAFF + [ADMIN]
    ]}
    for spec in MERCHANTS:
        merchant = Merchant.objects.filter(code=spec["code"]).first()
        if merchant is None:
            fields = {k: v for k, v in spec.items() if k not in ("code", "rm", "members")}
            merchant = merchant_create(actor=users[spec["rm"]], code=spec["code"],
                                                relationship_manager=users[spec["rm"]], **fields)
            merchant_submit(merchant=merchant, actor=users[spec["rm"]])
            merchant_approve(merchant=merchant, actor=users["risk_zhao"], reason="资料齐全")
            merchant, _secret = merchant_activate(merchant=merchant, actor=users["ops_chen"])
            _populate(merchant, spec, users)
        merchant.refresh_from_db()
        result["merchants"].append({
            "code": merchant.code, "name": merchant.legal_name, "app_id": merchant.app_id,
            "secret": valid_secrets(merchant)[0],
            "supervision_account": merchant.supervision_account_number,
        })
    return result


def _populate(merchant, spec, users):
    members = {}
    for i, (user_id, name, kind, roles) in enumerate(spec["members"]):
        member = member_create(merchant=merchant, actor=users[spec["rm"]], user_id=user_id, name=name,
                                        kind=kind, id_number=f"37010219850{i + 1:02d}0712{i}X"[:18],
                                        phone=f"1390531{i + 1:04d}", roles=roles)
        bank_card_add(member=member, actor=users[spec["rm"]], account_number=f"62220216020{i:08d}",
                      account_name=name, bank_name="中国工商银行济南分行")
        members[user_id] = Member.objects.get(pk=member.pk)
    # The platform's first fee income (from sales to its individual sellers) pays the
    # micro-deposits that verify its corporate members' accounts; then they trade too.
    add_history(merchant, members, users,
                before_corporate_sales=lambda: _verify_corporate_cards(merchant, users, rm=users[spec["rm"]]))


def _verify_corporate_cards(merchant, users, *, rm):
    """Corporate cards are verified by a micro-deposit: a payout batch (built by one operations
    user, released by another) sends it, paid from the platform's fee income; the bank answers
    "paid" in a result file; the member reads the amount back."""
    cards = list(BankCard.objects.filter(merchant_id=merchant.pk, verified=False, micro_deposit_amount__isnull=False))
    if not cards:
        return
    batch = payout_batch_build(merchant=merchant, actor=users["ops_chen"])
    payout_batch_submit(batch=batch, actor=users["ops_chen"])
    batch = payout_batch_release(batch=batch, actor=users["ops_liu"])
    rows = "".join(f"{line.end_to_end_id},paid,,DEMO-{line.end_to_end_id}\n" for line in batch.lines.order_by("pk"))
    payout_batch_apply_result(batch=batch, actor=users["ops_chen"],
                              data=f"end_to_end_id,status,reason,bank_reference\n{rows}".encode())
    for card in cards:
        card.refresh_from_db()
        bank_card_verify(card=card, actor=rm, amount=str(card.micro_deposit_amount))


def amount(text) -> Decimal:
    return Decimal(text)
