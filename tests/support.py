"""Paths the test modules share, and a Python process of the site's own."""

import subprocess
import sys
from pathlib import Path

from bulletins.testing.processes import ROOT

FIXTURES = Path(__file__).resolve().parent / "fixtures"
CONTENT = ROOT / "content"


def run_python(code, env, **kwargs):
    return subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, **kwargs)
