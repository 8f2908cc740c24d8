"""Ledger services, one module per topic; import from the module (ledger.services.payments)."""
