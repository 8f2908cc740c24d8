"""Credit screens: applications (scoring panel, transition buttons), lines, bills (aging),
the RM's notifications. Every change goes through credit.services."""
from . import applications, bills, lines, notifications  # noqa: F401
