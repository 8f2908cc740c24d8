"""Money history for the demo merchants: deposits proved by the bank, then direct and
guaranteed payments, all through the ledger's services."""
from decimal import Decimal

from ledger.services import deposits, payments

from .reserve import add_reserve


def add_history(merchant, members, users, *, before_corporate_sales=lambda: None):
    """Deposits of the individual buyers and their first sales to the individual sellers (the
    platform's first fee income); `before_corporate_sales()` (the corporate members' cards verified,
    so they may trade); the corporate buyers' deposits; then sales from every buyer."""
    buyers = [m for m in members.values() if m.is_buyer]
    sellers = [m for m in members.values() if m.is_seller]
    individual_sellers = [m for m in sellers if m.kind == "individual"]
    numbered = list(enumerate(buyers, start=1))
    for n, buyer in numbered:
        if buyer.kind == "individual":
            _deposit(merchant, users, buyer, n)
    for n, buyer in numbered:
        if buyer.kind == "individual":
            payments.payment_create(merchant=merchant, actor=users["ops_chen"], payer=buyer, amount=Decimal("86.00"),
                                    order_no=f"ORD-{merchant.code}-I{n:03d}", mode="direct",
                                    splits=[(individual_sellers[(n - 1) % len(individual_sellers)], Decimal("84.28"))],
                                    platform_fee=Decimal("1.72"), description="演示订单")
    before_corporate_sales()
    for n, buyer in numbered:
        if buyer.kind != "individual":
            _deposit(merchant, users, buyer, n)
    for n, buyer in numbered:
        seller = sellers[(n - 1) % len(sellers)]
        payments.payment_create(merchant=merchant, actor=users["ops_chen"], payer=buyer, amount=Decimal("1280.00"),
                                order_no=f"ORD-{merchant.code}-{n:03d}", mode="direct",
                                splits=[(seller, Decimal("1254.40"))], platform_fee=Decimal("25.60"),
                                description="演示订单")
        payments.payment_create(merchant=merchant, actor=users["ops_chen"], payer=buyer, amount=Decimal("560.00"),
                                order_no=f"ORD-{merchant.code}-G{n:03d}", mode="guaranteed",
                                splits=[(seller, Decimal("548.80"))], platform_fee=Decimal("11.20"),
                                description="担保交易演示")
    add_reserve(merchant, users)  # the required reserve and its funding (demo.reserve)


def _deposit(merchant, users, buyer, n):
    d = deposits.deposit_announce(merchant=merchant, actor=users["ops_chen"], member=buyer,
                                  amount=Decimal("20000.00") * n, order_no=f"DEP-{merchant.code}-{n:03d}",
                                  method="offline_transfer")
    deposits.deposit_credit(deposit=d, actor=users["ops_chen"], amount=d.amount, proof_kind="statement_line",
                            proof_reference=f"DEMO-{merchant.code}-{n:03d}")
