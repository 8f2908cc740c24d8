"""Demo data for the quick start (`manage.py seed_demo`, run by bin/run): staff per role, two
active merchants with members, and money history. It sits on top of every app and goes through
their services, as production does; no product app imports it.

- seed.py      the staff, the merchants and their members;
- history.py   deposits proved by the bank, payments (direct and guaranteed)."""
