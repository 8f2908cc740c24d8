"""Merchants admin, one module per screen."""
from . import members, merchants, webhooks  # noqa: F401  registers the screens
