"""Payouts: money that really leaves the supervision account, as files for the bank's payment system.

A payout batch (payouts.models.PayoutBatch) gathers, for one merchant and one value date, the
approved withdrawals due by then and the corporate cards' micro-deposits still to be sent; it
is issued as a CSV 代发/批量付款 file or an ISO 20022 pain.001.001.03 message (payouts.files),
after maker-checker: the person who releases a batch never built or submitted it. Releasing
sends the withdrawals to `processing` (through ledger.services.withdrawals) and the cards'
micro-deposits to `sent` (through merchants.services.members). The bank's answer — a result
file, or the supervision account's statement lines naming the batch or a line's end-to-end id
— books each line: paid withdrawals leave the supervision account, returned ones go back to
available, a paid micro-deposit makes the card verifiable, a returned one tells the platform.

Dependencies: payouts uses ledger, merchants and core. Reconciliation never imports payouts:
the statement import offers its money-out lines to `reconciliation.hooks.money_out_settlements`,
where payouts' AppConfig.ready registers its settlement (payouts.services.settlement)."""
