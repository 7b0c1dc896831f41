"""Bringing in the spreadsheets committees already keep (CSV and XLSX) and taking them out again
in the same columns. Reading (reader), column schemas and header mapping (schema), row checks
(plan), writing all-or-nothing (commit) and round-trip exports (roundtrip); no Streamlit here.
The lists, archives and reports people download to read are gongzhi.exports."""

from gongzhi.importing.commit import DUPLICATE_CHOICES, ImportRefused, ImportResult, run_import
from gongzhi.importing.plan import ImportPlan, ImportProblem, PlannedRow, plan_import
from gongzhi.importing.reader import ENCODINGS, FileRefused, Sheet, read_spreadsheet
from gongzhi.importing.roundtrip import export_file, export_rows
from gongzhi.importing.schema import KINDS, SCHEMAS, match_headers, remembered_mappings

__all__ = [
    "DUPLICATE_CHOICES", "ENCODINGS", "KINDS", "SCHEMAS", "FileRefused", "ImportPlan", "ImportProblem", "ImportRefused",
    "ImportResult", "PlannedRow", "Sheet", "export_file", "export_rows", "match_headers", "plan_import",
    "read_spreadsheet", "remembered_mappings", "run_import",
]
