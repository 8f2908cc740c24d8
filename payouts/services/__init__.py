"""The payouts app's services (the only writers): batches (build, submit, release, cancel),
answers (the bank's result file), settlement (statement lines, through reconciliation's hook)."""
