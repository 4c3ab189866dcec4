"""The committed browser bundles are built from the committed frontend sources."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

FRONTEND = Path(__file__).parents[3] / "rasd" / "console" / "frontend"


def test_committed_bundle_matches_its_sources():
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is missing: scripts/setup.sh installs it (apt-get install nodejs npm)")
    result = subprocess.run(
        [node, str(FRONTEND / "build.mjs"), "--check"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
