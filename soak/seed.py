"""What the soak needs, created through the services as bank staff would (run inside Django,
against the production-like database of `make prod-up`):

- staff: a relationship manager, a risk officer and an operations officer (random passwords:
  nobody signs in with them);
- an active merchant (maker-checker onboarding; activation opens its accounts and issues the
  API secret, shown once — here written to the run folder's seed.json, mode 0600);
- a payment channel with its own app id and signing secret, whose notifications prove deposits;
- a financier seller, funded by a deposit proven on a statement line, who lends on credit;
- a shared seller every client pays (one busy payee account, like a platform's own shop);
- one buyer per client with an approved credit line financed by the financier.

Everything else (members, cards, deposits, payments...) the soak creates over the API."""
import secrets

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction

from core.roles import OPERATIONS, RELATIONSHIP_MANAGER, RISK_OFFICER
from credit import services as credit_services
from ledger.models import JournalEntry
from ledger.services import deposits as deposit_services
from ledger.services.channels import payment_channel_create
from merchants.models import BusinessType, Member
from merchants.services.lifecycle import (
    merchant_activate,
    merchant_approve,
    merchant_create,
    merchant_submit,
)
from merchants.services.members import (
    bank_card_add,
    bank_card_micro_deposit_paid,
    bank_card_verify,
    member_create,
)
from merchants.uscc import make_uscc

FINANCIER_FUNDS = "50000000.00"
CREDIT_LIMIT = "1000000.00"  # at the one-approval ceiling (JIANGUAN_CREDIT_SECOND_APPROVAL_ABOVE)
CHANNEL_CODE = "soakpay"


def _staff(role: str, tag: str):
    user = get_user_model().objects.create_user(username=f"soak-{role}-{tag}", is_staff=True,
                                                password=secrets.token_urlsafe(24))
    user.groups.add(Group.objects.get(name=role))
    return user


@transaction.atomic
def seed(*, clients: int) -> dict:
    tag = secrets.token_hex(3)
    rm, risk, ops = (_staff(role, tag) for role in (RELATIONSHIP_MANAGER, RISK_OFFICER, OPERATIONS))
    serial = int(tag, 16) % 10_000_000
    merchant = merchant_create(
        actor=rm, code=f"soak-{tag}", legal_name=f"Soak Mall {tag} Co Ltd", uscc=make_uscc(f"91370100MC{serial:07d}"),
        contact_name="Soak", contact_phone="0531-88888888", business_type=BusinessType.B2C_MALL,
        relationship_manager=rm)
    merchant_submit(merchant=merchant, actor=rm)
    merchant_approve(merchant=merchant, actor=risk, reason="soak run")
    merchant, secret = merchant_activate(merchant=merchant, actor=ops)

    channel_secret = secrets.token_urlsafe(32)
    channel = payment_channel_create(actor=ops, code=CHANNEL_CODE, name="Soak channel",
                                     app_id=f"soakpay-{secrets.token_hex(6)}", secret=channel_secret)

    def member(user_id, name, roles):
        created = member_create(merchant=merchant, actor=rm, user_id=user_id, name=name,
                                                  kind="business", roles=roles)
        # A business member becomes active once its corporate account is verified by micro-deposit.
        number = f"6222{secrets.randbelow(10**12):012d}"
        card = bank_card_add(member=created, actor=rm, account_number=number, account_name=name,
                                               bank_name="Soak Bank")
        bank_card_micro_deposit_paid(card=card, actor=rm, bank_reference="SOAK")  # the bank paid it
        bank_card_verify(card=card, actor=rm, amount=str(card.micro_deposit_amount))
        return Member.objects.get(pk=created.pk)

    financier = member("financier", "Soak Supply Chain Finance Co", ("seller",))
    deposit = deposit_services.deposit_announce(merchant=merchant, actor=rm, member=financier, amount=FINANCIER_FUNDS,
                                                order_no="SEED-FIN-1", method="offline_transfer")
    deposit_services.deposit_credit(deposit=deposit, actor=ops, amount=FINANCIER_FUNDS, proof_kind="statement_line",
                                    proof_reference=f"SEED-{tag}-1")
    shared = member("shared-seller", "Soak Flagship Store", ("seller",))
    credit_buyers = []
    for i in range(clients):
        buyer = member(f"credit-buyer-{i}", f"Soak Credit Buyer {i} Co", ("buyer",))
        application = credit_services.credit_application_create(
            merchant=merchant, actor=rm, member=buyer, proposed_limit=CREDIT_LIMIT, term_days=30, grace_days=3,
            penalty_rate="0.0005", creditor_member=financier, creditor_is_platform=False)
        credit_services.credit_application_submit(application=application, actor=rm)
        credit_services.credit_application_review(application=application, actor=risk)
        credit_services.credit_application_approve(application=application, actor=risk, reason="soak run")
        credit_buyers.append(buyer.user_id)
    last_entry = JournalEntry.objects.filter(merchant=merchant).order_by("-id").values_list("id", flat=True).first()
    return {
        "tag": tag, "merchant_code": merchant.code, "merchant_id": merchant.pk, "app_id": merchant.app_id,
        "secret": secret, "channel": {"code": channel.code, "app_id": channel.app_id, "secret": channel_secret},
        "financier": financier.user_id, "shared_seller": shared.user_id, "credit_buyers": credit_buyers,
        "seed_last_entry_id": last_entry or 0,
    }
