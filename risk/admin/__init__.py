"""The risk office's screens: monitors, alerts and risk levels; the risk reserve's requests and
decisions; outflow rules, their hits and the risk queue. Each module registers its admins."""
from . import monitors, reserve, rules  # noqa: F401
