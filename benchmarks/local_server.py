"""``transformers serve`` on 127.0.0.1 serving a local model folder: the real server the endpoint tests,
the benchmark and the README's example run against.

``transformers serve`` lists in ``/v1/models`` the models of the Hugging Face cache, not a folder it was
pointed at, so the folder is laid out as a cache entry (``models--OWNER--NAME/snapshots/REV``, files
linked, ``refs/main``) in a cache of its own; the server then serves and lists it under ``OWNER/NAME``,
offline, exactly as it serves a downloaded hub model. Needs ``transformers[serving]`` (the dev extra).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from harness.fingerprint import digest
from harness.types import HarnessError


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def as_hub_cache(folder: Path, repo_id: str, cache: Path) -> Path:
    """``cache`` holding ``folder`` as the hub model ``repo_id`` (files linked, not copied); the snapshot."""
    files = sorted(p for p in folder.iterdir() if p.is_file())
    rev = digest(repo_id, [(p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in files])[:40]
    entry = cache / ("models--" + repo_id.replace("/", "--"))
    snap = entry / "snapshots" / rev
    snap.mkdir(parents=True, exist_ok=True)
    for p in files:
        link = snap / p.name
        if not link.exists():
            link.symlink_to(p.resolve())
    (entry / "refs").mkdir(exist_ok=True)
    (entry / "refs" / "main").write_text(rev)
    return snap


def serve_command() -> list[str]:
    exe = shutil.which("transformers", path=str(Path(sys.executable).parent)) or shutil.which("transformers")
    if exe is None:
        raise HarnessError("transformers serve is not installed: pip install 'transformers[serving]'")
    return [exe, "serve"]


class LocalServer:
    """One ``transformers serve`` process pinned to ``repo_id``; ``start``/``kill``/``stop``, same port."""

    def __init__(self, folder: Path, repo_id: str, workdir: Path, port: int | None = None,
                 extra_args: tuple[str, ...] = ()) -> None:
        self.folder, self.repo_id, self.workdir = Path(folder), repo_id, Path(workdir)
        self.port = port or free_port()
        self.extra_args = tuple(extra_args)
        self.cache = self.workdir / "hub"
        self.log_path = self.workdir / f"serve-{self.port}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self, timeout: float = 180.0) -> LocalServer:
        as_hub_cache(self.folder, self.repo_id, self.cache)
        env = {**os.environ, "HF_HUB_CACHE": str(self.cache), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
               "TOKENIZERS_PARALLELISM": "false"}
        args = [*serve_command(), self.repo_id, "--host", "127.0.0.1", "--port", str(self.port), "--device", "cpu",
                "--dtype", "float32", *self.extra_args]
        self.workdir.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(args, env=env, stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                tail = self.log_path.read_text(errors="replace").strip().splitlines()[-3:]
                raise HarnessError(f"transformers serve exited with {self.proc.returncode}: {' | '.join(tail)}")
            try:
                with urllib.request.urlopen(self.url + "/models", timeout=2) as resp:  # noqa: S310 - localhost
                    if self.repo_id in {m.get("id") for m in json.loads(resp.read()).get("data", [])}:
                        return self
            except OSError:
                pass
            time.sleep(0.3)
        self.stop()
        raise HarnessError(f"transformers serve did not list {self.repo_id} within {timeout:.0f}s "
                           f"(log: {self.log_path})")

    def kill(self) -> None:
        """SIGKILL, as a crash would: no goodbye to open connections."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()

    def __enter__(self) -> LocalServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
