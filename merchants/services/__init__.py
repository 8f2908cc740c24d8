"""Merchants services, one module per topic; import from the module (merchants.services.members)."""
