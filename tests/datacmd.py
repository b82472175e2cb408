"""Shared helpers for the data-command tests: run one command straight through its handler
(no interpreter, so a StataError reaches the test) on a session holding hsb."""
import pytest

from hlmshell.registry import REGISTRY
from hlmshell.output.writer import Capture
from hlmshell.session import Session
from hlmshell.syntax.parser import parse_command


def run(s, text):
    s.out.stream.seek(0)
    s.out.stream.truncate()
    cmd = parse_command(text)
    REGISTRY.commands[cmd.name].handler(s, cmd)
    return s.out.getvalue()


@pytest.fixture
def s(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    ses = Session(out=Capture())
    run(ses, "use hsb")
    return ses
