"""Statement and receipt import, matching, end-of-day runs, discrepancy cases."""
