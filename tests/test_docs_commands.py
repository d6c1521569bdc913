"""Every shell command README.md shows runs, as written, and prints what README shows.

Like datasette's documentation tests, the documentation is the test's input:

- **Which blocks.** Every indented (or fenced) code block of ``README.md``, in order,
  then the blocks of ``docs/*.md`` preceded by the line ``<!-- docs-test: run -->``
  (those notes also show fragments, placeholders and other machines' commands, so a
  block there runs only when so marked). A block is a command block when its first line
  that is not a comment starts with a command (``gateway``, ``curl``, ``python3``,
  ``unzip``, ``.venv/bin/...``, ``make`` or ``NAME=``); otherwise it is the output of
  the last command of the command block before it.
- **Commands.** A line at the block's own indentation starts a command; deeper lines
  continue it (backslash continuations, pipes, multi-line quoted JSON). Lines starting
  with ``#`` are comments. A command whose first line ends in a comment saying
  ``exit N`` must exit with status N; every other command must exit 0.
- **Where.** In a temporary directory that looks like the repository root
  (``fixtures``, ``.venv`` linked; ``mappings`` copied, since README writes a table
  there), with a fresh instance ``GATEWAY_HOME=<tmp>/instance`` and no
  ``DATABASE_URL``. Commands run one after another in ``bash -o pipefail``; the
  variables a command sets (``KEY=...``) reach the next ones.
- **The server.** ``make run`` and ``make test`` are not run (they build the virtualenv
  and run this suite); ``make vocab`` is not run either (it rewrites ``vocab/`` in the
  working tree; the ``--check`` command after it runs). The quick start's equivalent
  runs instead: ``gateway init``, then ``gateway serve`` on a free port
  (``tests/live_server.py``), with the base URL README uses
  (``http://127.0.0.1:8080``), and ``localhost:8080`` in commands points to that port.
  ``curl`` runs with ``--fail-with-body``: an HTTP error status fails the command.
- **Speed.** ``gateway`` on ``PATH`` is the executable of ``tests/cli_forkserver.py``:
  each command runs in a fork of a process that imported the package once, with the
  command's own arguments, environment, directory and standard streams.
- **Output.** An output block must match the command's standard output: its lines
  appear in order, runs of spaces count as one, a line ``...`` stands for any lines and
  ``...`` within a line for any text.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import click
import pytest

from tests.cli_forkserver import ForkServer
from tests.helpers import ROOT, skip_or_fail
from tests.live_server import LiveServer

pytestmark = pytest.mark.slow

README = ROOT / "README.md"
MARKER = "<!-- docs-test: run -->"
#: The base URL of README's examples: the default of ``gateway serve``.
README_BASE_URL = "http://127.0.0.1:8080"
COMMAND_START = re.compile(r"(gateway|curl|python3|unzip|make|\.venv/bin/\S+)\b|[A-Z_]+=")
EXPECTED_EXIT = re.compile(r"#.*\bexit (\d+)\s*$")
#: Not run: they build the virtualenv, run this suite, or rewrite the working tree.
NOT_RUN = re.compile(r"make (run|test|vocab)\b")
#: Longest a command may take: a hang fails that command, the others still run.
COMMAND_TIMEOUT = 120


@dataclass
class Command:
    """One command of a block: its text, where it is, and what it must do."""

    text: str
    source: str
    exit_code: int = 0
    output: list[str] = field(default_factory=list)


def _blocks(lines: list[str], marked_only: bool) -> Iterator[tuple[int, list[str]]]:
    """The code blocks of a Markdown file: (line number, lines without their indent)."""
    i = 0
    while i < len(lines):
        marked = i > 0 and lines[i - 1].strip() == MARKER
        if lines[i].startswith("```"):
            end = next(j for j in range(i + 1, len(lines)) if lines[j].startswith("```"))
            if marked or not marked_only:
                yield i + 2, lines[i + 1 : end]
            i = end + 1
            continue
        if lines[i].startswith("    ") and (i == 0 or not lines[i - 1].strip() or marked):
            marked = marked or (i > 1 and lines[i - 2].strip() == MARKER)
            j = i
            while j < len(lines) and (lines[j].startswith("    ") or not lines[j].strip()):
                j += 1
            block = [line[4:] for line in lines[i:j]]
            while block and not block[-1].strip():
                block.pop()
            if marked or not marked_only:
                yield i + 1, block
            i = j
            continue
        i += 1


def _commands(name: str, text: str, marked_only: bool) -> list[Command]:
    """The commands of the Markdown ``text`` of file ``name``, with the output each must
    print."""
    commands: list[Command] = []
    for start, block in _blocks(text.splitlines(), marked_only):
        first = next(
            (line for line in block if line.strip() and not line.lstrip().startswith("#")), ""
        )
        if not COMMAND_START.match(first.lstrip()):
            if commands:
                commands[-1].output = block
            continue
        indent = len(first) - len(first.lstrip())
        for offset, line in enumerate(block):
            stripped = line.lstrip()
            if not stripped:
                continue
            if len(line) - len(stripped) > indent and commands:
                commands[-1].text += "\n" + line
                continue
            if stripped.startswith("#"):
                continue
            expected = EXPECTED_EXIT.search(stripped)
            commands.append(
                Command(
                    stripped,
                    f"{name}:{start + offset}",
                    exit_code=int(expected.group(1)) if expected else 0,
                )
            )
    return [c for c in commands if not NOT_RUN.match(c.text)]


def documented_commands() -> list[Command]:
    """README's commands, then the marked ones of ``docs/*.md``."""
    commands = _commands("README.md", README.read_text(encoding="utf-8"), marked_only=False)
    for path in sorted((ROOT / "docs").glob("*.md")):
        text = path.read_text(encoding="utf-8")
        commands += _commands(f"docs/{path.name}", text, marked_only=True)
    return commands


def output_pattern(expected: list[str]) -> re.Pattern[str]:
    """A pattern the actual output (spaces squeezed, see :func:`squeeze`) must contain."""
    parts = []
    for line in expected:
        text = squeeze(line)
        if text == "...":
            parts.append(r"(?:[^\n]*\n)*?")
        else:
            pieces = (re.escape(p) for p in text.split("..."))
            parts.append(r"[^\n]*".join(pieces) + r"\n")
    return re.compile(r"^" + "".join(parts), re.MULTILINE)


def squeeze(text: str) -> str:
    return "\n".join(" ".join(line.split()) for line in text.splitlines())


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder that looks like the repository root to README's commands."""
    root = tmp_path_factory.mktemp("readme")
    (root / "fixtures").symlink_to(ROOT / "fixtures")
    (root / ".venv").symlink_to(ROOT / ".venv")
    shutil.copytree(ROOT / "mappings", root / "mappings")
    return root


def test_readme_commands_run_as_written(workdir: Path) -> None:
    for program in ("curl", "sed"):
        if shutil.which(program) is None:
            skip_or_fail(f"README's commands need {program}")
    commands = documented_commands()
    assert len(commands) > 40, "README's command blocks were not found"
    home = workdir / "instance"
    state = workdir / ".docs-test-env"
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(
        GATEWAY_HOME=str(home),
        GATEWAY_BASE_URL=README_BASE_URL,
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
    )
    # The quick start: `make run` is `gateway init` + `gateway serve`.
    init = subprocess.run(
        ["gateway", "init"], cwd=workdir, env=env, capture_output=True, text=True, timeout=120
    )
    assert init.returncode == 0, init.stderr
    commands_server = ForkServer(workdir / ".gateway-command", env)
    env["PATH"] = f"{commands_server.bin}{os.pathsep}{env['PATH']}"
    try:
        server = LiveServer(home, workdir / "server.log", base_url=README_BASE_URL)
    except BaseException:
        commands_server.stop()
        raise
    try:
        # Every command runs, so that one report names every command that fails.
        failures = [_run(c, workdir, env, state, server.port) for c in commands]
    finally:
        commands_server.stop()
        server.kill()
    failed = [f for f in failures if f]
    assert not failed, f"{len(failed)} of {len(commands)} commands failed:\n\n" + "\n\n".join(
        failed
    )


def _run(
    command: Command, workdir: Path, env: dict[str, str], state: Path, port: int
) -> str | None:
    """Run one command; what went wrong, or None."""
    text = re.sub(r"\b(localhost|127\.0\.0\.1):8080\b", f"127.0.0.1:{port}", command.text)
    text = re.sub(r"(^|[|;&(]\s*)curl ", r"\1curl --fail-with-body ", text, flags=re.MULTILINE)
    # `set -a` exports every variable the command sets; `export -p` keeps them for the
    # next command, which reads them back first.
    script = f"set -a\n[ -f {state} ] && . {state}\n{text}\nrc=$?\nexport -p > {state}\nexit $rc\n"
    started = time.monotonic()
    try:
        result = subprocess.run(
            ["bash", "-o", "pipefail", "-c", script],
            cwd=workdir,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT,
        )
    except subprocess.TimeoutExpired:
        return f"{command.source}: {command.text}\n--- no exit within {COMMAND_TIMEOUT} s"
    # How long each command took, for the report of a run (`pytest -s`), never asserted.
    print(f"{time.monotonic() - started:6.1f} s  {command.source}")
    where = f"{command.source}: {command.text}\n--- stdout\n{result.stdout[-2000:]}"
    where += f"\n--- stderr\n{result.stderr[-2000:]}"
    if result.returncode != command.exit_code:
        return f"exit {result.returncode}, {where}"
    if command.output and not output_pattern(command.output).search(squeeze(result.stdout) + "\n"):
        return "output differs from README: " + where
    return None


# -- what README says about the commands -------------------------------------------------


def test_every_mappings_command_takes_json() -> None:
    """README: "Every `gateway mappings` command takes `--json`"."""
    from gateway.cli.mappings import mappings

    assert isinstance(mappings, click.Group)
    for name, command in mappings.commands.items():
        assert "--json" in [o for p in command.params for o in p.opts], name


def test_the_parser_finds_commands_output_and_expected_exits() -> None:
    lines = [
        "Text:",
        "",
        "    gateway init",
        "    # a comment",
        "    gateway codes decode --strict X   # bad: exit 2",
        "    gateway approvals add --tenant acme \\",
        "        --kind k",
        "",
        "prints:",
        "",
        "    line one",
        "    ...",
        "",
        MARKER,
        "```sh",
        "curl -s localhost:8080/health",
        "```",
    ]
    blocks = list(_blocks(lines, marked_only=True))
    assert blocks == [(16, ["curl -s localhost:8080/health"])]
    assert [b[0] for b in _blocks(lines, marked_only=False)] == [3, 11, 16]
    commands = _commands("x.md", "\n".join(lines), marked_only=False)
    assert [(c.text, c.source, c.exit_code) for c in commands] == [
        ("gateway init", "x.md:3", 0),
        ("gateway codes decode --strict X   # bad: exit 2", "x.md:5", 2),
        ("gateway approvals add --tenant acme \\\n    --kind k", "x.md:6", 0),
        ("curl -s localhost:8080/health", "x.md:16", 0),
    ]
    assert commands[2].output == ["line one", "..."]
    pattern = output_pattern(["a  b", "...", "c ... e"])
    assert pattern.search("x\na b\nz\nz\nc d e\n")
    assert not pattern.search("a b\nc d\n")


def test_a_failing_command_or_changed_output_is_reported(tmp_path: Path) -> None:
    env = {"PATH": os.environ["PATH"]}
    state = tmp_path / "state"
    assert _run(Command("VALUE=$(echo 42)", "x.md:1"), tmp_path, env, state, 1) is None
    assert _run(Command('test "$VALUE" = 42', "x.md:2"), tmp_path, env, state, 1) is None
    failed = _run(Command("false", "x.md:3"), tmp_path, env, state, 1)
    assert failed and failed.startswith("exit 1, x.md:3: false")
    assert (
        _run(Command("exit 2  # bad: exit 2", "x.md:4", exit_code=2), tmp_path, env, state, 1)
        is None
    )
    changed = _run(Command("echo a; echo c", "x.md:5", output=["a", "b"]), tmp_path, env, state, 1)
    assert changed and changed.startswith("output differs from README: x.md:5")
    shown = Command("echo a; echo b; echo c", "x.md:6", output=["a", "...", "c"])
    assert _run(shown, tmp_path, env, state, 1) is None


def test_the_fast_gateway_command_behaves_as_the_real_one(tmp_path: Path) -> None:
    """Same status, output and errors as ``python -m gateway``, with the caller's
    environment, directory and standard input."""
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["GATEWAY_HOME"] = str(tmp_path / "nowhere")
    frames = (ROOT / "fixtures" / "examples" / "frames.hex").read_text()
    cases = [
        (["codes", "decode", "--strict", "Z9ZMEB2ABC1234H9Y0000001"], ""),
        (["tenants", "list"], ""),
        (["telemetry", "aggregate", "-", "--battery", "Z9ZPBA10000001F3F0000123"], frames),
    ]
    server = ForkServer(tmp_path / "fork", env)
    try:
        for args, stdin in cases:
            outcomes = [
                subprocess.run(
                    [*program, *args],
                    cwd=tmp_path,
                    env=env,
                    input=stdin,
                    capture_output=True,
                    text=True,
                    timeout=COMMAND_TIMEOUT,
                )
                for program in ([sys.executable, "-m", "gateway"], [str(server.bin / "gateway")])
            ]
            real, fast = ((r.returncode, r.stdout, r.stderr) for r in outcomes)
            assert fast == real, args
    finally:
        server.stop()
