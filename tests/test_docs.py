"""The documentation site and the README (issue #23).

The site builds with ``mkdocs build --strict`` (a broken link, a reference page that fails, a CLI command
without help text all fail it) offline, into a temporary folder; every ``gridpatrol`` command appears in the
generated CLI reference; the README stays short, keeps the test command CI runs, and its relative links
resolve.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import click
import pytest

from app.cli import main

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
pytestmark = pytest.mark.slow


def _commands(command: click.Command, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    out = [path] if path else []
    if isinstance(command, click.Group):
        for name, sub in sorted(command.commands.items()):
            if not sub.hidden:
                out += _commands(sub, (*path, name))
    return out


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    env = {
        **os.environ,
        # offline: any attempt to reach the network fails at once
        "HTTP_PROXY": "http://127.0.0.1:9",
        "HTTPS_PROXY": "http://127.0.0.1:9",
        "NO_PROXY": "",
        "NO_MKDOCS_2_WARNING": "1",
    }
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    return out


def test_site_builds_strictly_with_every_section(site: Path) -> None:
    for page in (
        "index.html",
        "getting-started/first-import.html",
        "guides/inspector.html",
        "guides/inspector.zh.html",
        "concepts/lifecycle.html",
        "reference/python/services.html",
        "reference/http-api.html",
        "reference/configuration.html",
        "results/benchmarks.html",
    ):
        assert (site / page).is_file(), page
    services = (site / "reference/python/services.html").read_text(encoding="utf-8")
    assert "services.cases" in services
    assert "services.analysis.hotspots" in services
    http = (site / "reference/http-api.html").read_text(encoding="utf-8")
    assert "/open311/v2/requests" in http
    assert (site / "reference/openapi.json").is_file()


def test_every_cli_command_is_in_the_generated_reference(site: Path) -> None:
    html = (site / "reference/cli.html").read_text(encoding="utf-8")
    commands = _commands(main)
    assert len(commands) > 20
    missing = [" ".join(c) for c in commands if f'id="gridpatrol-{"-".join(c)}"' not in html]
    assert not missing, missing


def test_readme_is_short_and_keeps_the_test_command() -> None:
    text = README.read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 250
    # .ci/run calls `make test`, the README's test command
    assert "make test" in text
    assert "make test" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_every_relative_link_in_the_readme_resolves() -> None:
    text = README.read_text(encoding="utf-8")
    links = re.findall(r"\]\(([^)\s]+)\)", text)
    relative = [link for link in links if not re.match(r"[a-z]+:", link) and not link.startswith("#")]
    assert relative, "the README links into the docs"
    broken = [link for link in relative if not (ROOT / link.split("#")[0]).exists()]
    assert not broken, broken
