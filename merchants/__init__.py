"""Merchants (the platforms the bank supervises), their members (the platforms' buyers and
sellers), members' bank cards and the platforms' API credentials. Onboarding, freezes and
credential rotation live here. This app depends on `core` only."""
