"""Helpers shared by the test modules: paths, and real processes with their own database."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
CONTENT = ROOT / "content"


def site_env(tmp_path, **extra):
    """Environment for a real server or loader process with its own database."""
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="bulletins.settings",
        BULLETINS_DATA_DIR=str(tmp_path / "var"),
        BULLETINS_DB_PATH=str(tmp_path / "var" / "site.sqlite3"),
        PYTHONPATH=str(ROOT),
    )
    env.update({key: str(value) for key, value in extra.items()})
    return env


def run_python(code, env, **kwargs):
    return subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, **kwargs)
