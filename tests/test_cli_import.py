"""`python -m gongzhi import KIND FILE [--dry-run]` and `export KIND FILE`: the row report, exit
codes, nothing written on any refusal, and an import killed half-way leaving no trace."""

import os
import signal
import subprocess
import sys
from pathlib import Path

from sqlalchemy import func, select
from sqlmodel import Session

from gongzhi import cli
from gongzhi.accounts import create_user
from gongzhi.db import get_engine, write_session
from gongzhi.models import AuditEntry, Person, Volunteer
from tests.conftest import Sql
from tests.import_files import PNG_BYTES, ROSTER, ROSTER_HEADER, csv_bytes, make_community

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _count(url: str, model) -> int:
    with Session(get_engine(url)) as session:
        return session.execute(select(func.count()).select_from(model)).scalar_one()


def _file(tmp_path, name: str, data: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def test_a_file_with_refused_rows_prints_each_and_exits_1_writing_nothing(db_url, tmp_path, capsys):
    make_community(db_url)
    rows = [*ROSTER, ["赵六", "12345", "九网格", "", "", ""]]
    path = _file(tmp_path, "名册.csv", csv_bytes(ROSTER_HEADER, rows, encoding="gbk"))
    status = cli.main(["--database-url", db_url, "import", "volunteers", path])
    out, err = capsys.readouterr()
    assert status == 1
    assert "volunteers <- 名册.csv (CSV, gb18030): 4 rows: 3 new" in out
    assert "Row 5, 手机号码: “12345” is not a valid phone number" in out
    assert "Row 5, 所属网格: no grid has the code or name “九网格”" in out
    assert "2 problem(s) found; nothing was imported." in err
    assert _count(db_url, Person) == 0

    assert cli.main(["--database-url", db_url, "import", "volunteers", path, "--lang", "zh-CN"]) == 1
    assert "行号 5, 手机号码: “12345”不是有效的电话号码" in capsys.readouterr().out


def test_dry_run_writes_nothing_and_a_real_run_imports_all(db_url, tmp_path, capsys):
    make_community(db_url)
    path = _file(tmp_path, "名册.csv", csv_bytes(ROSTER_HEADER, ROSTER, encoding="utf-8", bom=True))
    assert cli.main(["--database-url", db_url, "import", "volunteers", path, "--dry-run"]) == 0
    assert "Dry run: nothing was written." in capsys.readouterr().out
    assert _count(db_url, Volunteer) == 0
    assert cli.main(["--database-url", db_url, "import", "volunteers", path]) == 0
    out, err = capsys.readouterr()
    assert "Imported: 3 new, 0 updated, 0 skipped." in out and "Writing 3/3" in err
    assert _count(db_url, Volunteer) == 3
    assert cli.main(["--database-url", db_url, "import", "volunteers", path, "--on-duplicate", "update"]) == 0
    assert "Imported: 0 new, 3 updated, 0 skipped." in capsys.readouterr().out


def test_a_refused_file_and_a_bad_mapping_exit_1(db_url, tmp_path, capsys):
    path = _file(tmp_path, "名册.xlsx", PNG_BYTES)
    assert cli.main(["--database-url", db_url, "import", "volunteers", path]) == 1
    assert "not a spreadsheet (it looks like PNG)" in capsys.readouterr().err
    make_community(db_url)
    path = _file(tmp_path, "a.csv", csv_bytes(["名字", "手机", "网格"], [["张伟", "13800138000", "G01"]], encoding="utf-8"))
    assert cli.main(["--database-url", db_url, "import", "volunteers", path, "--map", "名字=nom"]) == 1
    assert "has no field 'nom'" in capsys.readouterr().err
    assert cli.main(["--database-url", db_url, "import", "volunteers", path, "--map", "名字=name"]) == 0
    assert _count(db_url, Volunteer) == 1


def test_as_names_an_admin_whose_name_goes_into_the_audit_trail(db_url, tmp_path, capsys):
    make_community(db_url)
    with write_session(get_engine(db_url)) as session:
        create_user(session=session, username="boss", password="long-password-1", role="admin", display_name="主任")
        create_user(session=session, username="clerk", password="long-password-1", role="committee", display_name="秘书")
    path = _file(tmp_path, "a.csv", csv_bytes(ROSTER_HEADER, ROSTER[:1], encoding="utf-8"))
    try:
        cli.main(["--database-url", db_url, "import", "volunteers", path, "--as", "clerk"])
    except SystemExit as exit_:
        assert "must name an active admin account" in str(exit_.code)
    assert _count(db_url, Volunteer) == 0
    assert cli.main(["--database-url", db_url, "import", "volunteers", path, "--as", "boss"]) == 0
    with Session(get_engine(db_url)) as session:
        actors = set(session.execute(select(AuditEntry.actor).where(AuditEntry.table_name == "volunteer")).scalars())
    assert actors == {"主任"}


def test_export_writes_csv_or_xlsx_by_extension_and_imports_back(db_url, tmp_path, capsys):
    make_community(db_url)
    source = _file(tmp_path, "in.csv", csv_bytes(ROSTER_HEADER, ROSTER, encoding="gbk"))
    assert cli.main(["--database-url", db_url, "import", "volunteers", source]) == 0
    for name in ("out.csv", "out.xlsx"):
        assert cli.main(["--database-url", db_url, "export", "volunteers", str(tmp_path / name)]) == 0
    assert (tmp_path / "out.csv").read_bytes().startswith(b"\xef\xbb\xbf")  # UTF-8 BOM for Excel
    assert (tmp_path / "out.xlsx").read_bytes().startswith(b"PK")
    assert cli.main(["--database-url", db_url, "export", "volunteers", str(tmp_path / "out.txt")]) == 1
    capsys.readouterr()
    assert cli.main(["--database-url", db_url, "import", "volunteers", str(tmp_path / "out.xlsx"), "--dry-run"]) == 0
    assert "3 rows: 0 new, 3 already in the database" in capsys.readouterr().out


def test_an_import_killed_half_way_leaves_no_rows_and_a_sound_database(db_url, tmp_path):
    make_community(db_url)
    rows = [[f"居民{i}", f"13{i:09d}", "G01", "急救", "", ""] for i in range(60_000)]
    path = _file(tmp_path, "big.csv", csv_bytes(ROSTER_HEADER, rows, encoding="utf-8"))
    env = {key: value for key, value in os.environ.items() if not key.startswith("GONGZHI_") or key == "GONGZHI_NOW"}
    process = subprocess.Popen([sys.executable, "-m", "gongzhi", "--database-url", db_url, "import", "volunteers", path],
                               cwd=PROJECT_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        for line in process.stderr:
            if line.startswith("Writing "):  # the first 1,000 rows are in the open transaction
                process.send_signal(signal.SIGKILL)
                break
        returncode = process.wait(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
    assert returncode == -signal.SIGKILL  # killed while writing, not finished
    sql = Sql(db_url)
    if sql.engine.dialect.name == "sqlite":  # PostgreSQL keeps no file a killed writer could leave torn
        assert sql.scalar("PRAGMA integrity_check") == "ok"
    assert sql.scalar("SELECT count(*) FROM person") == 0
    assert sql.scalar("SELECT count(*) FROM volunteer") == 0
    assert sql.scalar("SELECT count(*) FROM auditentry WHERE table_name = 'person'") == 0
