"""Excel statements built in the tests with openpyxl, from the traits of real banks'
exports: preamble rows, merged title cells, two-row headers, numbers stored as numbers, dates
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


# --- one workbook per trait of real exports, also committed as .xls (fixtures/make_fixtures.py) -----

def trait_multi_sheet() -> bytes:
    """A cover sheet, then a statement continued on a second sheet that repeats its header."""
    header = ["交易日期", "交易流水号", "借方发生额", "贷方发生额", "交易摘要"]
    return workbook(("封面", [["企业网银 交易明细导出"], ["请勿修改本文件"]]),
                    ("第1页", [header, [datetime.date(2025, 12, 1), "S1", None, 500.0, "货款"],
                               [datetime.date(2025, 12, 1), "S2", 20.5, None, "手续费"]]),
                    ("第2页", [header, [datetime.date(2025, 12, 2), "S3", None, 1234.56, "货款"],
                               ["本页合计", None, 20.5, 1734.56]]))


def trait_direction_flag() -> bytes:
    """One unsigned 发生额 with a 借贷标志 column written 贷 Cr / 借 Dr, dates as text with a time."""
    return workbook(("明细", [["账户明细"], ["账号：37001618801050099999"], [],
                              ["交易时间", "交易流水号", "发生额", "借贷标志", "对方户名", "附言"],
                              ["2025/12/03  14:06:51", "F1", 12800.0, "贷 Cr", "济南鲁味", "RC7KQ2M9X"],
                              ["2025/12/03  15:00:00", "F2", 2000.0, "借 Dr", "张三", "提现"],
                              ["以上数据仅供参考"]], ["A1:F1"]))


def trait_teller_reference() -> bytes:
    """柜员流水号 and 交易参考号, neither unique alone; money in and out as 收入/支出 under 金额."""
    return workbook(("明细", [["记账日期", "柜员流水号", "交易参考号", "金额", None, "备注"],
                              [None, None, None, "收入", "支出", None],
                              [20251203, "T01", "R1", 300.0, None, "a"], [20251203, "T01", "R2", None, 45.0, "b"]],
                     ["D1:E1"]))


def corporate_trait() -> bytes:
    rows = corporate_rows("37001618801050099999", CORPORATE_LINES)
    top = header_row_index(rows) + 1
    return workbook(("账户明细", rows, ["A1:H1", f"C{top}:D{top}"]))


CORPORATE_LINES = [
    (datetime.datetime(2025, 12, 3, 14, 6, 51), "T0001", None, 1234.5, "济南鲁味食品有限公司", "37001618801050012345",
     "货款 RC7KQ2M9X", 1234.5),
    ("2025/12/03  15:10:02", 20251203000123, 100.0, 0.0, "张三", 6222020200112233, "提现", 1134.5),
    (46000, "T0003", "-", 0.1 + 0.2, "李四", "", "利息", 1134.8),
    (20251205, "T0004", "", "0.00", "", "", "利息税", 1134.8),
]

TRAITS = {"corporate": corporate_trait, "multi_sheet": trait_multi_sheet, "direction_flag": trait_direction_flag,
          "teller_reference": trait_teller_reference}
