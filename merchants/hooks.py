"""Extension points for the apps that build on merchants (dependencies point one way:
ledger and reconciliation register here in their AppConfig.ready; merchants never imports them).

- `on_activate`: called as fn(merchant=..., actor=...) inside the activation transaction
  (the ledger opens the merchant's accounts).
- `close_checks`: called as fn(merchant) -> list of reasons the merchant can't close yet
  (the ledger: non-zero balances; reconciliation: an unclean last end of day).
- `on_event`: called as fn(merchant=..., event_type=..., data=...) after commit
  (webhooks: "merchant.frozen", "member.frozen")."""
on_activate: list = []
on_member_created: list = []  # fn(member=..., actor=...) inside the transaction (the ledger opens its accounts)
close_checks: list = []
on_event: list = []


def emit(*, merchant, event_type: str, data: dict):
    from django.db import transaction

    for fn in on_event:
        transaction.on_commit(lambda fn=fn: fn(merchant=merchant, event_type=event_type, data=data))
admin_panels: list = []  # fn(merchant) -> [{"title", "ok", "headline", "rows": [(label, value)]}]
