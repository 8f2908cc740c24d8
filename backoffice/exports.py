"""RM performance as files for the bank's appraisal system: CSV (UTF-8 with BOM, so Excel
opens Chinese names), XLSX (numbers as numbers, two decimals with separators) and JSON.
Amounts are plain decimal strings in CSV and JSON; machine column names never change."""
import csv
import io
import json

from django.utils.translation import gettext as _

from .selectors.performance import METRICS, official_values

COLUMNS = ["period", "rm_username", "rm_name"] + [name for name, _label, _kind in METRICS] + ["source", "snapshot_taken_at"]


def table(period, rows) -> list[dict]:
    out = []
    for row in rows:
        values, source = official_values(row)
        taken = row.snapshot.taken_at.isoformat() if row.snapshot is not None else ""
        out.append({"period": period.key, "rm_username": row.username, "rm_name": row.name, **values,
                    "source": source, "snapshot_taken_at": taken})
    return out


def as_csv(period, rows) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for item in table(period, rows):
        writer.writerow({k: (str(v) if v is not None else "") for k, v in item.items()})
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def as_json(period, rows) -> bytes:
    data = {"period": period.key, "start": period.start.isoformat(), "end": period.end.isoformat(),
            "rows": [{k: (str(v) if not isinstance(v, (int, str)) else v) for k, v in item.items()}
                     for item in table(period, rows)]}
    return json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8")


def as_xlsx(period, rows) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = period.key
    labels = {"period": _("Period"), "rm_username": _("Username"), "rm_name": _("Relationship manager"),
              "source": _("Source"), "snapshot_taken_at": _("Snapshot taken at"),
              **{name: str(label) for name, label, _kind in METRICS}}
    sheet.append([str(labels[c]) for c in COLUMNS])
    sheet.append(COLUMNS)  # the machine names under the labels, for the appraisal system's import
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    kinds = {name: kind for name, _label, kind in METRICS}
    for item in table(period, rows):
        sheet.append([item[c] for c in COLUMNS])
        for cell, column in zip(sheet[sheet.max_row], COLUMNS):
            if kinds.get(column) == "money":
                cell.number_format = "#,##0.00"
    for column_cells in sheet.columns:
        sheet.column_dimensions[column_cells[0].column_letter].width = 18
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


FORMATS = {
    "csv": (as_csv, "text/csv; charset=utf-8", "csv"),
    "xlsx": (as_xlsx, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
    "json": (as_json, "application/json", "json"),
}
