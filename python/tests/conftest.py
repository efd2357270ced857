"""Shared fixtures: the repository, the `pbn` binary and small configs."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"


@pytest.fixture(scope="session")
def pbn_bin() -> str:
    """The CLI to compare with: $PBN_BIN, target/release/pbn, or `pbn` on the PATH."""
    for candidate in [os.environ.get("PBN_BIN"), str(REPO / "target" / "release" / "pbn"), shutil.which("pbn")]:
        if candidate and Path(candidate).is_file():
            return candidate
    pytest.fail("no pbn binary: build it (cargo build --release -p pbn-cli) or set PBN_BIN")


@pytest.fixture
def cli(pbn_bin):
    """Runs the CLI; returns the CompletedProcess (text)."""

    def run(*args, check=True):
        p = subprocess.run([pbn_bin, *map(str, args)], capture_output=True, text=True)
        if check and p.returncode != 0:
            raise AssertionError(f"pbn {' '.join(map(str, args))} failed:\n{p.stderr}")
        return p

    return run


ISTDP = str(EXAMPLES / "istdp_i_to_e.toml")
SMALL = ["n=800", "duration_ms=400"]


def small(path: str = ISTDP, sets=SMALL):
    import pbn

    cfg = pbn.Config(path)
    for s in sets:
        k, v = s.split("=", 1)
        cfg.set(k, float(v) if "." in v or "e" in v else int(v))
    return cfg


def set_args(sets=SMALL):
    return [a for s in sets for a in ("--set", s)]
