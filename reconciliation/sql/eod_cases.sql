-- One case per difference, keyed by (merchant, business date, kind, key): a rerun updates the
-- open case's figures instead of opening a second one. Closed cases keep their status.
INSERT INTO reconciliation_discrepancycase
    (merchant_id, business_date, kind, key, order_type, order_no, expected_amount, actual_amount, detail,
     status, run_id, still_present, resolution, opened_at, updated_at)
SELECT d.merchant_id, %(day)s, d.kind, d.key, d.order_type, d.order_no, d.expected_amount, d.actual_amount,
       d.detail, 'open', d.run_id, TRUE, '', %(now)s, %(now)s
FROM reconciliation_eoddifference d
WHERE d.run_id = %(run)s
ON CONFLICT (merchant_id, business_date, kind, key) DO UPDATE
    SET expected_amount = EXCLUDED.expected_amount,
        actual_amount = EXCLUDED.actual_amount,
        detail = EXCLUDED.detail,
        run_id = EXCLUDED.run_id,
        still_present = TRUE,
        updated_at = EXCLUDED.updated_at
