"""Bringing in the spreadsheets committees already keep (CSV and XLSX) and taking them out again
in the same columns. Reading (reader), column schemas and header mapping (schema), row checks
(plan), writing all-or-nothing (commit) and round-trip exports (export); no Streamlit here."""

from gongzhi.importing.commit import DUPLICATE_CHOICES, ImportRefused, ImportResult, run_import
from gongzhi.importing.export import export_file, export_rows
from gongzhi.importing.plan import ImportPlan, PlannedRow, Problem, plan_import
from gongzhi.importing.reader import ENCODINGS, FileRefused, Sheet, read_spreadsheet
from gongzhi.importing.schema import KINDS, SCHEMAS, match_headers, remembered_mappings

__all__ = [
    "DUPLICATE_CHOICES", "ENCODINGS", "KINDS", "SCHEMAS", "FileRefused", "ImportPlan", "ImportRefused", "ImportResult",
    "PlannedRow", "Problem", "Sheet", "export_file", "export_rows", "match_headers", "plan_import", "read_spreadsheet",
    "remembered_mappings", "run_import",
]
