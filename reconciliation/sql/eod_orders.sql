-- End of day, step 1 (日末批量勾对): the platform's order file against the ledger's journal
-- entries of one merchant and business date, in one statement. Both sides are keyed by
-- (order type, order number); the ledger side sums its entries per key (partial refunds), and
-- entries that were reversed do not count. Only differences are written (matched orders are
-- counted by the caller: orders - missing_in_ledger - amount_mismatches).
-- ROUND: a no-op on PostgreSQL's numeric; SQLite (the quick start) sums numerics as floats.
-- {order_type} and {entry_types} are filled in from reconciliation.services.eod.ENTRY_ORDER_TYPES.
INSERT INTO reconciliation_eoddifference
    (merchant_id, run_id, kind, key, order_type, order_no, expected_amount, actual_amount, entry_id_hint, detail)
SELECT %(merchant)s, %(run)s,
       CASE WHEN l.order_no IS NULL THEN 'missing_in_ledger'
            WHEN o.order_no IS NULL THEN 'missing_in_orders'
            ELSE 'amount_mismatch' END,
       COALESCE(o.order_type, l.order_type) || ':' || COALESCE(o.order_no, l.order_no),
       COALESCE(o.order_type, l.order_type),
       COALESCE(o.order_no, l.order_no),
       o.amount, l.amount, l.entry_id, ''
FROM (
    SELECT order_type, order_no, amount
    FROM reconciliation_orderfileline
    WHERE order_file_id = %(order_file)s
) o
FULL OUTER JOIN (
    SELECT {order_type} AS order_type, e.order_no, ROUND(SUM(COALESCE(e.order_amount, 0)), 2) AS amount, MIN(e.id) AS entry_id
    FROM ledger_journalentry e
    WHERE e.merchant_id = %(merchant)s
      AND e.business_date = %(day)s
      AND e.order_no <> ''
      AND (e.entry_type IN ({entry_types})
           -- money matched by hand from suspense to an announced deposit is that deposit
           OR (e.entry_type = 'suspense_match'
               AND e.id IN (SELECT d.entry_id FROM ledger_deposit d
                            WHERE d.merchant_id = %(merchant)s AND d.entry_id IS NOT NULL)))
      AND NOT EXISTS (SELECT 1 FROM ledger_journalentry r WHERE r.reverses_id = e.id)
    GROUP BY 1, e.order_no
) l ON l.order_type = o.order_type AND l.order_no = o.order_no
WHERE o.order_no IS NULL OR l.order_no IS NULL OR o.amount <> l.amount
