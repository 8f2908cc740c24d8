"""What staff read when a file or a row cannot be read: code -> message (lazy translations)."""

from django.utils.translation import gettext_lazy as _

MESSAGES = {  # file-level codes first, then row-level codes
    "empty": _("The file is empty."),
    "undecodable": _("The file is neither UTF-8 nor GBK/GB18030 text, nor an Excel workbook (.xlsx or .xls)."),
    "bad_workbook": _("The Excel workbook cannot be opened (damaged, password-protected or not really Excel)."),
    "xml_spreadsheet": _("The file is an XML spreadsheet (Excel 2003 XML) saved with an Excel name, which this "
                         "importer does not read: open it in Excel and save it as .xlsx, then import that file."),
    "no_header": _("No statement header (流水号, 交易日期, 金额 ...) was found in the first 60 rows."),
    "missing_bank_reference": _("The header has no bank reference column (流水号 / bank_reference)."),
    "missing_value_date": _("The header has no date column (交易日期 / value_date)."),
    "missing_amount": _("The header has no amount column (金额 / amount) and no credit/debit pair."),
    "headers_found": _("Headers found on line %(line)s: %(headers)s. If this is a bank's export, add a statement "
                       "layout for it in the admin (Statement layouts)."),
    "unsigned_amount": _("The amount column “%(column)s” has no sign, and the header has no direction column "
                         "(借贷标志 / 收支标志 / direction) to say which way the money went. The importer needs "
                         "a direction column, or separate money-in and money-out columns (贷方发生额 / 借方发生额)."),
    "unknown_direction": _("The column “%(column)s” looks like a debit/credit flag this importer does not know; "
                           "the file is refused rather than reading every line as money in. Add the header to "
                           "a statement layout's direction words, or rename it to 借贷标志 or direction."),
    "missing_reference": _("The bank reference is empty."),
    "bad_reference": _("The bank reference was stored by Excel as a number with more than 15 digits, so Excel "
                       "has already changed its last digits: export that column as text."),
    "bad_date": _("The date cannot be read (write 2026-11-24, 2026/11/24 or 20261124)."),
    "bad_amount": _("The amount cannot be read (write 1234.50, 1,234.50 or ¥1,234.50; 2 decimals at most)."),
    "foreign_digits": _("The amount is written with digits of another script; only 0–9 (or their full-width "
                        "forms) are read as money."),
    "missing_amount_cell": _("The amount is missing."),
    "zero_amount": _("Zero amount: the line moves no money and is skipped."),
    "both_debit_and_credit": _("The line has both a credit and a debit amount."),
    "bad_direction": _("The direction flag cannot be read (write 贷/借, 收/支, C/D, credit/debit or in/out, or "
                       "add the bank's value to its statement layout)."),
    "missing_direction": _("The direction flag is empty: the line does not say whether the money came in or "
                           "went out."),
    "signed_with_direction": _("The amount has a minus sign and the line also has a direction flag: say which "
                               "way the money went once."),
    "direction_conflict": _("The direction flag contradicts the debit/credit column that holds the amount."),
    "bad_balance": _("The balance cannot be read."),
    "undecodable_line": _("This line is not text in the file's encoding."),
    "malformed_row": _("This line is not valid CSV (check its quotes)."),
}
