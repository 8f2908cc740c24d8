"""Risk services, one module per topic; import from the module (risk.services.monitors)."""
