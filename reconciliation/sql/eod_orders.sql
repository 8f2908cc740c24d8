-- End of day, step 1 (日末批量勾对): the platform's order file against the ledger's journal
-- entries of one merchant and business date, in one statement. Both sides are keyed by
-- (order type, order number); the ledger side sums its entries per key (partial refunds), and
-- entries that were reversed do not count. Only differences are written (matched orders are
-- counted by the caller: orders - missing_in_ledger - amount_mismatches - party_mismatches).
-- Parties: the ledger's payer (payee) of a key is the member its entries name, when they agree;
-- a party is compared only where both sides name one (the platform's column is not blank and
-- the ledger knows a member: not the outside payer of a deposit, the several payees of a split
-- payment, the escrow a held payment's refund comes from). Same amount, a party differs:
-- party_mismatch. Every order difference records both sides' parties.
-- ROUND: a no-op on PostgreSQL's numeric; SQLite (the quick start) sums numerics as floats.
-- {order_type} and {entry_types} are filled in from reconciliation.services.eod.ENTRY_ORDER_TYPES.
INSERT INTO reconciliation_eoddifference
    (merchant_id, run_id, kind, key, order_type, order_no, expected_amount, actual_amount, entry_id_hint, detail,
     platform_payer, platform_payee, ledger_payer, ledger_payee)
SELECT %(merchant)s, %(run)s,
       CASE WHEN l.order_no IS NULL THEN 'missing_in_ledger'
            WHEN o.order_no IS NULL THEN 'missing_in_orders'
            WHEN o.amount <> l.amount THEN 'amount_mismatch'
            ELSE 'party_mismatch' END,
       COALESCE(o.order_type, l.order_type) || ':' || COALESCE(o.order_no, l.order_no),
       COALESCE(o.order_type, l.order_type),
       COALESCE(o.order_no, l.order_no),
       o.amount, l.amount, l.entry_id, '',
       COALESCE(o.payer_user_id, ''), COALESCE(o.payee_user_id, ''), COALESCE(lp.user_id, ''),
       COALESCE(lq.user_id, '')
FROM (
    SELECT order_type, order_no, amount, payer_user_id, payee_user_id
    FROM reconciliation_orderfileline
    WHERE order_file_id = %(order_file)s
) o
FULL OUTER JOIN (
    SELECT {order_type} AS order_type, e.order_no, ROUND(SUM(COALESCE(e.order_amount, 0)), 2) AS amount, MIN(e.id) AS entry_id,
           CASE WHEN MIN(e.payer_id) = MAX(e.payer_id) THEN MIN(e.payer_id) END AS payer_id,
           CASE WHEN MIN(e.payee_id) = MAX(e.payee_id) THEN MIN(e.payee_id) END AS payee_id
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
LEFT JOIN merchants_member lp ON lp.id = l.payer_id
LEFT JOIN merchants_member lq ON lq.id = l.payee_id
WHERE o.order_no IS NULL OR l.order_no IS NULL OR o.amount <> l.amount
   OR (o.payer_user_id <> '' AND lp.user_id IS NOT NULL AND o.payer_user_id <> lp.user_id)
   OR (o.payee_user_id <> '' AND lq.user_id IS NOT NULL AND o.payee_user_id <> lq.user_id)
