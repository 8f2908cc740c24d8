"""Electronic receipts (电子回单): a PDF for every payment, release, refund, deposit and paid
withdrawal, naming the real payer and payee, the amount in figures and in capitals, the order
number, the bank, a receipt number and a verification code with a QR code pointing at the
public verification page.

The app owns the Receipt rows (one per movement, created on first issue: the same movement
always prints the same number), the PDF, the public verification page, and the download
endpoints for platforms (API) and staff (admin links). It reads the ledger and merchants; no
other app imports it (config/urls.py and config/api_urls.py include its routes, the ledger's
admin links to them by URL name)."""
