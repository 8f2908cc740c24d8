"""Extension points for the apps that build on merchants (dependencies point one way:
ledger and reconciliation register here in their AppConfig.ready; merchants never imports them).

- `on_activate`: called as fn(merchant=..., actor=...) inside the activation transaction
  (the ledger opens the merchant's accounts).
- `close_checks`: called as fn(merchant) -> list of reasons the merchant can't close yet
  (the ledger: non-zero balances; reconciliation: an unclean last end of day).

Events for platforms are not a hook: every app writes them into the outbox (merchants.services.events)."""
on_activate: list = []
on_member_created: list = []  # fn(member=..., actor=...) inside the transaction (the ledger opens its accounts)
close_checks: list = []
member_close_checks: list = []  # fn(member) -> reasons the member can't close yet (money, credit bills)
admin_panels: list = []  # fn(merchant) -> [{"title", "ok", "headline", "rows": [(label, value)]}]
