#!/usr/bin/env python3
"""The two commands of the README's quick start, on any machine with Python 3.11+:

    python3 manage.py run    # virtual environment + dependencies, then the app on the demo database
    python3 manage.py test   # the same environment plus test tools, then the whole test suite

Dependencies are (re)installed only when the requirements files change."""

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")


def _ensure_environment(requirements: str) -> None:
    if sys.version_info < (3, 11):  # noqa: UP036 - this file must also run on an older python3
        sys.exit("Gongzhi needs Python 3.11 or newer.")
    if not PYTHON.exists():
        print("Creating the virtual environment in .venv …", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    files = [ROOT / requirements, ROOT / "requirements.txt"]
    digest = hashlib.sha256(b"".join(f.read_bytes() for f in files)).hexdigest()
    stamp = VENV / f".installed-{requirements}"
    if stamp.exists() and stamp.read_text() == digest:
        return
    print(f"Installing {requirements} …", flush=True)
    subprocess.run([str(PYTHON), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                    "-r", str(ROOT / requirements)], check=True)
    stamp.write_text(digest)


def run(extra: list[str]) -> int:
    _ensure_environment("requirements.txt")
    return subprocess.call([str(PYTHON), "-m", "streamlit", "run", str(ROOT / "app.py"), *extra], cwd=ROOT)


def test(extra: list[str]) -> int:
    _ensure_environment("requirements-dev.txt")
    return subprocess.call([str(PYTHON), "-m", "pytest", *extra], cwd=ROOT)


def main() -> int:
    commands = {"run": run, "test": test}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        print(__doc__)
        return 2
    return commands[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
