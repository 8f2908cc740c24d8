"""Events for platforms (webhooks). Emitted inside a service's transaction and handed to the
registered senders only after commit, so a rolled-back movement never notifies anyone."""
from django.db import transaction

senders: list = []  # fn(merchant, event_type, data); the API's webhook module registers here


def emit(merchant, event_type: str, data: dict) -> None:
    for fn in senders:
        transaction.on_commit(lambda fn=fn: fn(merchant, event_type, data))
