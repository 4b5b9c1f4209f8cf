"""One front door: every spark-submit entry point under jobs/ is an `eventlake` command, so
an option exists in both or in neither, and both fail the same way."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

from eventlake import cli

pytestmark = pytest.mark.unit
REPO = Path(__file__).resolve().parents[2]
JOBS = sorted((REPO / "jobs").glob("*/*.py"))


def command_of(job: Path) -> list[str]:
    """The `eventlake` words the job passes before its own argv; fails on anything thicker."""
    tree = ast.parse(job.read_text("utf-8"))
    body = [n for n in tree.body if not (isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant))]
    imports = [n for n in body if isinstance(n, (ast.Import, ast.ImportFrom))]
    assert [ast.unparse(n) for n in imports] == ["import sys", "from eventlake.cli import main"], job
    (guard,) = [n for n in body if n not in imports]
    assert isinstance(guard, ast.If) and ast.unparse(guard.test) == "__name__ == '__main__'", job
    (call,) = guard.body
    words = ast.parse(ast.unparse(call)).body[0].value.args[0].args[0]  # sys.exit(main([...]))
    *prefix, rest = words.elts
    assert ast.unparse(rest) == "*sys.argv[1:]", job
    return [ast.literal_eval(word) for word in prefix]


@pytest.mark.parametrize("job", JOBS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_job_is_an_eventlake_command(job, capsys):
    words = command_of(job)
    assert words[0] in cli.COMMANDS
    with pytest.raises(SystemExit) as done:
        cli.build_parser(words[0]).parse_args([*words, "--help"])
    assert done.value.code == 0
    assert capsys.readouterr().out.startswith("usage: eventlake " + words[0])


def test_a_jobs_mistake_is_the_commands_one_line_and_exit_code(tmp_path):
    env = dict(os.environ, EVENTLAKE_LAKE_URI=str(tmp_path / "lake"))
    done = subprocess.run(
        [sys.executable, str(REPO / "jobs/gold/build_gold.py"), "--table", "nope"],
        env=env, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1].startswith("eventlake run: unknown gold table nope; known: ")
    assert "Traceback" not in done.stderr
