"""payouts.services and the micro-deposit's steps in merchants.services.members: a build, a
submit, a release and a cancel are decisions (audit records; a release moves withdrawals to
processing through their service); the bank's answer books money (journal entries) and decides
(audit records)."""
from core.errors import PermissionRefused, ValidationFailed
from ledger.services import deposits
from merchants.services import members
from payouts.services import answers, batches
from tests import factories as f
from tests.core.trace import AUDIT, BOTH, NOT_SERVICES, STEPS, refusal, scenario
from tests.payouts.helpers import business_card, released, world

_IMPORT = "reconciliation.services.imports.statement_import"
_RESULT = "payouts.services.answers.payout_batch_apply_result"
NOT_SERVICES.update({
    "payouts.services.batches.due_for_payout": "query: what a build would gather now",
    "payouts.services.answers.answer_line": "a step of payout_batch_apply_result (and of the statement settlement)",
    "payouts.services.answers.close_if_answered": "a step of payout_batch_apply_result: settles the batch",
    "payouts.services.settlement.settle_statement_lines": "a step of statement_import (its money-out hook)",
    "reconciliation.services.money_out.settle_by_hooks": "a step of statement_import: offers lines to its hooks",
    "ledger.services.micro_deposits.micro_deposits_affordable": "check: the platform's fee income covers an amount",
    "ledger.services.micro_deposits.micro_deposit_paid_book": "a step of answer_line: books a paid micro-deposit",
})
STEPS.update({
    "payouts.services.answers.answer_line": _RESULT,
    "payouts.services.answers.close_if_answered": _RESULT,
    "payouts.services.settlement.settle_statement_lines": _IMPORT,
    "reconciliation.services.money_out.settle_by_hooks": _IMPORT,
    "ledger.services.micro_deposits.micro_deposit_paid_book": _RESULT,
})


@scenario(batches.payout_batch_build, leaves=AUDIT)
def operations_build_the_day_s_payout_batch():
    merchant, _w, _c = world()
    return dict(merchant=merchant, actor=f.ops())


@scenario(batches.payout_batches_build_due, leaves=AUDIT)
def the_beat_builds_the_batches_due():
    world()
    return dict(actor=None)


def _draft():
    merchant, _w, _c = world()
    builder = f.ops()
    return batches.payout_batch_build(merchant=merchant, actor=builder), builder


@scenario(batches.payout_batch_submit, leaves=AUDIT)
def the_builder_submits_a_batch():
    batch, builder = _draft()
    return dict(batch=batch, actor=builder)


def _submitted():
    batch, builder = _draft()
    return batches.payout_batch_submit(batch=batch, actor=builder), builder


@scenario(batches.payout_batch_release, leaves=AUDIT)
def a_second_person_releases_a_batch():
    batch, _builder = _submitted()
    return dict(batch=batch, actor=f.ops())


@refusal(batches.payout_batch_release, error=PermissionRefused)
def the_builder_releases_their_own_batch():
    batch, builder = _submitted()
    return dict(batch=batch, actor=builder)


@scenario(batches.payout_batch_cancel, leaves=AUDIT)
def operations_cancel_a_draft():
    batch, builder = _draft()
    return dict(batch=batch, actor=builder, reason="wrong value date")


def _result(batch, status="paid"):
    rows = [f"{line.end_to_end_id},{status},{'closed' if status == 'returned' else ''},B-{line.pk}"
            for line in batch.lines.order_by("pk")]
    return ("end_to_end_id,status,reason,bank_reference\n" + "\n".join(rows)).encode()


@scenario(answers.payout_batch_apply_result, leaves=BOTH)
def the_bank_s_result_file_says_paid():
    batch, _w, _c = released()
    return dict(batch=batch, actor=f.ops(), data=_result(batch))


@refusal(answers.payout_batch_apply_result, error=ValidationFailed)
def a_result_file_naming_an_unknown_payment():
    batch, _w, _c = released()
    return dict(batch=batch, actor=f.ops(), data=b"end_to_end_id,status,reason,bank_reference\nPB-NOPE,paid,,B1\n")


@scenario(members.bank_card_micro_deposit_sent, leaves=AUDIT)
def a_micro_deposit_leaves_in_a_batch():
    return dict(card=business_card(f.active_merchant()), actor=None, batch_reference="PB1")


@scenario(members.bank_card_micro_deposit_paid, leaves=AUDIT)
def the_bank_paid_a_micro_deposit():
    return dict(card=business_card(f.active_merchant()), actor=None, bank_reference="B1")


@scenario(members.bank_card_micro_deposit_returned, leaves=AUDIT)
def the_bank_returned_a_micro_deposit():
    card = business_card(f.active_merchant())
    members.bank_card_micro_deposit_sent(card=card, actor=None)
    return dict(card=card, actor=None, reason="no such account")


@scenario(deposits.platform_deposit_announce, leaves=AUDIT)
def the_platform_announces_its_own_money_for_its_own_account():
    return dict(merchant=f.active_merchant(), actor=None, amount="10.00", order_no="PLT-TRACE-1")
