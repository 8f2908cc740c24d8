"""Account-period credit (账期): applications, lines, bills, repayments, scoring, overdue."""
