"""The audit trail in staff's words (core.audit_labels): a timeline labels each event's action and
states, in the staff's language, while the records keep their codes."""
import ast
from pathlib import Path

import pytest
from django.utils import translation

from core.audit import timeline_for
from core.audit_labels import ACTION_LABELS, labelled_timeline, transition_labels
from merchants.models import Merchant
from tests import factories as f

ROOT = Path(__file__).resolve().parents[2]
PRODUCT = ("core", "merchants", "ledger", "credit", "reconciliation", "payouts", "receipts", "risk", "backoffice")


def literal_actions():
    """Every action code written as a literal: audit_record(..., action="x") and {"action": "x"}."""
    codes = {}
    for package in PRODUCT:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", "")) in (
                        "audit_record", "transition"):
                    for kw in node.keywords:
                        if kw.arg == "action" and isinstance(kw.value, ast.Constant):
                            codes[kw.value.value] = f"{path.relative_to(ROOT)}:{node.lineno}"
                elif isinstance(node, ast.Dict):
                    for key, value in zip(node.keys, node.values):
                        if isinstance(key, ast.Constant) and key.value == "action" and isinstance(value, ast.Constant):
                            codes[value.value] = f"{path.relative_to(ROOT)}:{node.lineno}"
    return codes


def test_every_action_the_product_writes_has_a_label():
    # given every literal action code of an audit record in the product's code
    codes = literal_actions()
    assert "build" in codes and "succeed" in codes  # the scan sees both forms
    # then each one has a label (transitions are labelled by their own button's label)
    assert {code: where for code, where in codes.items() if code not in ACTION_LABELS} == {}


@pytest.mark.django_db
def test_a_timeline_shows_labels_in_the_staff_language_and_the_records_keep_codes():
    # given a merchant taken through its onboarding workflow
    merchant = f.active_merchant()
    raw = list(timeline_for(merchant))
    assert raw and all(e.action.isascii() for e in raw)
    # when its timeline is shown in Chinese
    with translation.override("zh-hans"):
        events = labelled_timeline(merchant)
        labels = [(str(e.action_label), str(e.to_label)) for e in events]
    # then every action and state is labelled, none shown as its code
    transitions = transition_labels(Merchant)
    assert [e.action for e in events] == [e.action for e in raw]
    for event, (action_label, to_label) in zip(events, labels):
        assert event.action in transitions or event.action in ACTION_LABELS, event.action
        assert action_label != event.action and not action_label.isascii(), action_label
        assert not event.to_state or (to_label != event.to_state and not to_label.isascii()), to_label

