"""Account-period credit (账期/赊销).

A relationship manager drafts a credit application for a buyer member of a platform; risk
reviews and approves it (never the person who prepared it, and above a configured limit a
second, different risk officer too). An approved application opens a credit line (or changes
an existing line's limit and terms). The buyer draws the line only to pay a seller of the same
platform — credit money never reaches the buyer and never leaves the platform — and each
drawdown is a bill due on its business date plus the line's term. Repayments come from the
buyer's available balance and go to the creditor, penalty first. A daily sweep marks bills
past due plus grace as overdue, accrues penalty interest, suspends the line and tells the RM.

- `models/`: applications, lines, bills (with repayments and penalty accruals), notifications;
- `services/`: the only writers, one module per topic (re-exported by `credit.services`);
- `scoring.py`: the score and suggested limit from the member's ledger history;
- `selectors.py`: reads shared by the admin, the API and reports."""
