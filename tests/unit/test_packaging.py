"""The wheel carries the console's built bundles, not the frontend's sources or node_modules.

The wheel is built for real (pip wheel, offline, with the test environment's setuptools) from a
copy of the package as a developer's checkout has it: a node_modules in the frontend after
`npm ci`, and a rasd.egg-info from an editable install whose SOURCES.txt lists the frontend.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def build_wheel(source: Path, out: Path) -> list[str]:
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index"]
        + ["--quiet", "--wheel-dir", str(out), str(source)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    [wheel] = out.glob("rasd-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        return archive.namelist()


def test_wheel_has_the_bundles_and_no_frontend_sources(tmp_path):
    source = tmp_path / "src"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    shutil.copytree(
        REPO / "rasd",
        source / "rasd",
        ignore=shutil.ignore_patterns("__pycache__", "node_modules", "*.egg-info"),
    )
    planted = source / "rasd" / "console" / "frontend" / "node_modules" / "uplot"
    (planted / "dist").mkdir(parents=True)
    (planted / "package.json").write_text("{}\n")
    (planted / "dist" / "uPlot.esm.js").write_text("export default 1;\n")
    frontend = sorted(
        str(f.relative_to(source))
        for f in (source / "rasd" / "console" / "frontend").rglob("*")
        if f.is_file()
    )
    (source / "rasd.egg-info").mkdir()
    (source / "rasd.egg-info" / "SOURCES.txt").write_text("\n".join(["pyproject.toml", *frontend]))

    names = build_wheel(source, tmp_path / "dist")

    for bundle in (
        "rasd/console/static/bundles/rule-editor.js",
        "rasd/console/static/charts.js",
        "rasd/console/static/uplot.css",
        "rasd/console/static/bundles/console.js",
        "rasd/console/static/console.css",
        "rasd/console/static/favicon.svg",
        "rasd/console/templates/rule_edit.html",
        "rasd/rules/gazetteer.json",
        "rasd/text/readings.bin",
        "rasd/text/readings.LICENSE",
    ):
        assert bundle in names
    built_from = [n for n in names if n.startswith("rasd/console/frontend/")]
    assert built_from == [], built_from
    assert [n for n in names if "node_modules" in n] == []
