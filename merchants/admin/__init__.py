"""Merchants admin, one module per screen."""
from . import challenges, members, merchants, webhooks  # noqa: F401  registers the screens
