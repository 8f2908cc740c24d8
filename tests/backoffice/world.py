"""Known data for the back-office tests, built through the real services with a fixed clock.

Two RMs: Alice's merchant M1 and Bob's merchant M2 (both activated on 2026-11-02).
M1 supervision postings: +100.00 (2026-10-15), +1000.00 (11-02), +500.00 (11-10),
−200.00 (11-20, a paid withdrawal); a direct payment 300.00 buyer → seller on 11-12 moves
nothing in the supervision account. Credit (M1): a line of 10,000.00 opened on 11-03 (seller
as creditor, 5 days, no grace); 400.00 drawn on 11-03 (due 11-08), 150.00 repaid on 11-15.
M2: +250.00 on 11-30."""
import datetime
from decimal import Decimal

from django.utils import timezone

from credit import services as credit_services
from ledger.services import deposits
from ledger.services.payments import payment_create
from merchants.models import Merchant
from tests import factories as f
from tests.credit.helpers import open_line
from tests.reconciliation.builders import withdrawal as paid_withdrawal

D = Decimal
ACTIVATED = timezone.make_aware(datetime.datetime(2026, 11, 2, 10, 0))


class Clock:
    def __init__(self, day):
        self.day = day

    def __call__(self, now=None):
        return self.day


def at(clock, year, month, day):
    clock.day = datetime.date(year, month, day)


def deposit(merchant, member, amount, order_no):
    d = deposits.deposit_announce(merchant=merchant, actor=None, member=member, amount=amount, order_no=order_no,
                                  method="offline_transfer")
    return deposits.deposit_credit(deposit=d, actor=None, amount=amount, proof_kind="statement_line",
                                   proof_reference=f"SL-{order_no}")


class World:
    def __init__(self, clock):
        self.alice = f.rm(username="rm_alice", first_name="Alice")
        self.bob = f.rm(username="rm_bob", first_name="Bob")
        self.m1 = f.active_merchant(manager=self.alice, legal_name="Alice Mall Co Ltd")
        self.m2 = f.active_merchant(manager=self.bob, legal_name="Bob Market Co Ltd")
        Merchant.objects.filter(pk__in=[self.m1.pk, self.m2.pk]).update(activated_at=ACTIVATED)
        self.buyer = f.member(self.m1, user_id="buyer-1", name="Zhang San", phone="13812345678",
                              roles=("buyer",))
        self.seller = f.member(self.m1, user_id="seller-1", name="Shop One", roles=("seller",))
        self.other = f.member(self.m2, user_id="buyer-9", name="Li Si", phone="13900001111", roles=("buyer",))
        at(clock, 2026, 10, 15)
        self.dep_oct = deposit(self.m1, self.buyer, "100.00", "DEP-OCT")
        at(clock, 2026, 11, 2)
        self.dep1 = deposit(self.m1, self.buyer, "1000.00", "DEP-1001")
        at(clock, 2026, 11, 3)
        self.line = open_line(self.m1, self.buyer, limit="10000.00", creditor=self.seller, term_days=5,
                              grace_days=0)
        self.line.__class__.objects.filter(pk=self.line.pk).update(
            created_at=timezone.make_aware(datetime.datetime(2026, 11, 3, 11, 0)))
        self.bill = credit_services.credit_drawdown(merchant=self.m1, actor=None, member=self.buyer,
                                                    payee=self.seller, amount="400.00", order_no="CR-7001")
        at(clock, 2026, 11, 10)
        self.dep2 = deposit(self.m1, self.buyer, "500.00", "DEP-1002")
        at(clock, 2026, 11, 12)
        self.payment, _created = payment_create(merchant=self.m1, actor=None, payer=self.buyer, amount="300.00",
                                                order_no="ORD-8842", mode="direct", splits=[(self.seller, "300.00")],
                                                platform_fee="0.00", description="tea set")
        at(clock, 2026, 11, 15)
        self.repayment = credit_services.credit_repay(bill=self.bill, actor=None, amount="150.00",
                                                      idempotency_ref="rep-1")
        at(clock, 2026, 11, 20)
        self.withdrawal = paid_withdrawal(self.m1, self.seller, "200.00", "WD-3001", bank_reference="BR20261120001")
        at(clock, 2026, 11, 30)
        self.dep3 = deposit(self.m2, self.other, "250.00", "DEP-2001")
