"""Platform API for members and their bank cards (see core.api.views for the pattern)."""
