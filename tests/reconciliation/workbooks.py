"""Excel statements built in the tests with openpyxl, from the traits of real banks' exports
(issue 19): preamble rows, merged title cells, two-row headers, numbers stored as numbers, dates
as datetimes or serial numbers, footers, several sheets. Nothing here is copied from a bank."""
import csv
import datetime
import io
from pathlib import Path

import openpyxl

from reconciliation.parsing import layout_from_data, load_builtin

FIXTURES = Path(__file__).with_name("fixtures")
BUILTIN = [layout_from_data(data) for data in load_builtin()]


def workbook(*sheets) -> bytes:
    """sheets: (name, rows[, merges]) — rows are lists of cell values (None = empty cell)."""
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, rows, *merges in sheets:
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(list(row))
        for cells in (merges[0] if merges else ()):
            sheet.merge_cells(cells)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def as_csv(rows, *, encoding="gb18030") -> bytes:
    """The same rows as the bank's CSV export would write them (numbers as Excel shows them)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for row in rows:
        writer.writerow(["" if cell is None else _csv_text(cell) for cell in row])
    return out.getvalue().encode(encoding)


def _csv_text(cell) -> str:
    if isinstance(cell, datetime.datetime):
        return cell.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(cell, datetime.date):
        return cell.isoformat()
    if isinstance(cell, float):
        return f"{cell:.2f}"
    return str(cell)


def corporate_rows(account: str, lines: list[tuple], *, title=True) -> list[list]:
    """A corporate-banking detail export: title, preamble (account, period, query time, a
    [HISTORYDETAIL] marker), a two-row header (发生额/元 over 借方 | 贷方), the lines, and footers.
    lines: (交易时间, 交易流水号, 借方, 贷方, 对方账户名称, 对方账户, 交易摘要, 账户余额)."""
    rows = []
    if title:
        rows += [["账户交易明细查询"], ["账号", account, None, "户名", "某某电子商务有限公司资金监管户"],
                 ["币种", "人民币"], ["起止日期", "2025-12-01 至 2025-12-31"],
                 ["查询时间", "2025-12-31 18:00:00"], [], ["[HISTORYDETAIL]"]]
    rows.append(["交易时间", "交易流水号", "发生额/元", None, "对方账户名称", "对方账户", "交易摘要", "账户余额"])
    rows.append([None, None, "借方", "贷方", None, None, None, None])
    rows += [list(line) for line in lines]
    rows += [["人民币合计", None, sum(_n(line[2]) for line in lines), sum(_n(line[3]) for line in lines)],
             ["-" * 20, "-" * 20], ["以上数据仅供参考，以银行盖章对账单为准"]]
    return rows


def _n(value) -> float:
    return value if isinstance(value, (int, float)) else 0.0


def header_row_index(rows) -> int:
    return next(i for i, row in enumerate(rows) if row and row[0] == "交易时间")
