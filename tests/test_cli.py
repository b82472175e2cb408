"""The `hlmshell` command line, run as a real process (`python -m hlmshell ...`)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from hlmshell import __version__, cli

ROOT = Path(__file__).resolve().parents[1]


def run(args, cwd, stdin_text=None, env_extra=None):
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env["HLMSHELL_HISTORY"] = str(Path(cwd) / "history")
    env.pop("HLMSHELL_DEBUG", None)
    env.update(env_extra or {})
    return subprocess.run([sys.executable, "-m", "hlmshell", *args], cwd=cwd, env=env,
                          input=stdin_text if stdin_text is not None else "",
                          capture_output=True, text=True, timeout=120)


def have_interpreter() -> bool:
    try:
        import hlmshell.interpreter  # noqa: F401
    except Exception:
        return False
    return True


needs_interpreter = pytest.mark.skipif(not have_interpreter(),
                                       reason="hlmshell.interpreter not available yet")


def test_version(tmp_path):
    p = run(["--version"], tmp_path)
    assert p.returncode == 0
    assert p.stdout.strip() == f"hlmshell {__version__}"


@pytest.mark.parametrize("flag", ["-h", "--help"])
def test_help(tmp_path, flag):
    p = run([flag], tmp_path)
    assert p.returncode == 0
    assert "usage: hlmshell" in p.stdout and "check" in p.stdout


def test_unknown_option_is_usage_error(tmp_path):
    assert run(["-", "extra"], tmp_path).returncode == 2
    p = run(["--bogus"], tmp_path)
    assert p.returncode == 2
    assert "unknown option" in p.stderr and "Traceback" not in p.stderr


def test_missing_do_file(tmp_path):
    p = run(["nosuch.do"], tmp_path)
    assert p.returncode == 255  # r(601) squeezed into an exit status
    assert "file nosuch.do not found\nr(601);" in p.stdout
    assert "Traceback" not in p.stdout + p.stderr


def test_exit_status_mapping():
    assert cli.exit_status(0) == 0
    assert cli.exit_status(None) == 0
    assert cli.exit_status(1) == 1
    assert cli.exit_status(198) == 198
    assert cli.exit_status(601) == 255
    assert cli.exit_status(-3) == 1


def test_check_dispatch(tmp_path, monkeypatch):
    try:
        import hlmshell.check as check  # noqa: F401
    except ImportError:
        p = run(["check", "a.do", "b.log"], tmp_path)
        assert p.returncode == 2
        assert "check" in p.stderr and "Traceback" not in p.stderr
        return
    seen = {}
    monkeypatch.setattr(check, "main", lambda argv: seen.setdefault("argv", argv) and 7)
    assert cli.main(["check", "NOTES.do", "STATA.log"]) == 7
    assert seen["argv"] == ["NOTES.do", "STATA.log"]


def test_internal_error_shows_no_traceback(monkeypatch, capsys):
    def boom(path, args=None):
        raise RuntimeError("kaput")

    monkeypatch.setattr(cli, "run_file", boom)
    monkeypatch.delenv("HLMSHELL_DEBUG", raising=False)
    assert cli.main(["x.do"]) == 1
    err = capsys.readouterr().err
    assert "internal error: RuntimeError: kaput" in err and "Traceback" not in err
    monkeypatch.setenv("HLMSHELL_DEBUG", "1")
    assert cli.main(["x.do"]) == 1
    assert "Traceback" in capsys.readouterr().err


def test_keyboard_interrupt_is_a_break(monkeypatch, capsys):
    def interrupted(path, args=None):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "run_file", interrupted)
    assert cli.main(["x.do"]) == 1
    assert "--Break--\nr(1);" in capsys.readouterr().out


# -- with the real interpreter --------------------------------------------------------------

@needs_interpreter
def test_do_file_success(tmp_path):
    (tmp_path / "ok.do").write_text('display 1+1\nlocal x = 3\ndisplay `x\' * 2\n')
    p = run(["ok.do"], tmp_path)
    assert p.returncode == 0, p.stdout + p.stderr
    assert ". display 1+1\n2" in p.stdout
    assert "6" in p.stdout.splitlines()
    assert "Traceback" not in p.stdout + p.stderr


@needs_interpreter
def test_do_file_error_sets_exit_status(tmp_path):
    (tmp_path / "bad.do").write_text("display 1\nnosuchcommand 3\ndisplay 2\n")
    p = run(["bad.do"], tmp_path)
    assert p.returncode == 199, p.stdout + p.stderr
    assert "command nosuchcommand is unrecognized" in p.stdout
    assert "r(199);" in p.stdout
    assert ". display 2" not in p.stdout   # stopped at the error
    assert "Traceback" not in p.stdout + p.stderr


@needs_interpreter
def test_piped_stdin_runs_as_do_file(tmp_path):
    p = run([], tmp_path, stdin_text="display 2+3\ndisplay \"hi\"\n")
    assert p.returncode == 0, p.stdout + p.stderr
    assert "5" in p.stdout.splitlines() and "hi" in p.stdout.splitlines()


@needs_interpreter
def test_piped_stdin_error_status(tmp_path):
    p = run([], tmp_path, stdin_text="summarize nosuchvar\n")
    assert p.returncode != 0
    assert "Traceback" not in p.stdout + p.stderr


@needs_interpreter
def test_dash_reads_stdin(tmp_path):
    p = run(["-"], tmp_path, stdin_text="display 7\n")
    assert p.returncode == 0 and "7" in p.stdout.splitlines()


@needs_interpreter
def test_garbage_file_gives_stata_error_not_traceback(tmp_path):
    (tmp_path / "junk.do").write_bytes(b"\x00\xff\xfe garbage (((\n\"unterminated\n}\n")
    p = run(["junk.do"], tmp_path)
    assert p.returncode != 0
    assert "Traceback" not in p.stdout + p.stderr
    assert "r(" in p.stdout


@needs_interpreter
def test_do_file_arguments_become_locals(tmp_path):
    (tmp_path / "args.do").write_text("display `\"`1'|`2'|`0'\"'\n")
    p = run(["args.do", "alpha", "two words"], tmp_path)
    assert p.returncode == 0, p.stdout + p.stderr
    assert 'alpha|two words|alpha "two words"' in p.stdout.splitlines()


@needs_interpreter
def test_do_file_name_without_extension(tmp_path):
    (tmp_path / "plain.do").write_text("display 40+2\n")
    p = run(["plain"], tmp_path)
    assert p.returncode == 0 and "42" in p.stdout.splitlines()


@needs_interpreter
def test_ctrl_c_stops_a_do_file(tmp_path):
    import signal
    import time

    (tmp_path / "loop.do").write_text('display "start" + "ed"\nwhile 1 {\n}\n')
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, "-m", "hlmshell", "loop.do"], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = ""
        t0 = time.time()
        while "started" not in line and time.time() - t0 < 30:
            line = proc.stdout.readline()
        time.sleep(0.3)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 1
    assert "--Break--" in out and "Traceback" not in out + err
