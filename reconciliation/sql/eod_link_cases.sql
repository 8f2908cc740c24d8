-- Each difference row points at its case (the admin drills down from one to the other).
UPDATE reconciliation_eoddifference
SET case_id = c.id
FROM reconciliation_discrepancycase c
WHERE reconciliation_eoddifference.run_id = %(run)s
  AND c.merchant_id = %(merchant)s
  AND c.business_date = %(day)s
  AND c.kind = reconciliation_eoddifference.kind
  AND c.key = reconciliation_eoddifference.key
