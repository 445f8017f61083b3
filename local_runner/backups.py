"""`python -m local_runner backup FILE` and `restore FILE`, for the embedded database on disk.

A running runner owns its data directory (the lock beside the database), and a second handle on the
engine's files would diverge from it. So the runner answers backups itself, on a Unix socket beside
the database (`<database>.sock`, mode 0600, and only for a peer of its own user): it reads the
snapshot with its own handle (lib/db/backup.py) and streams it back. With no runner, `backup` takes the
lock and reads the directory itself. `restore` takes the lock (refusing while a runner holds it),
refuses a database directory that is not empty, loads the file into a scratch directory beside it and
moves that into place only once every record is in.
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import struct
import threading
import time
from pathlib import Path
from typing import BinaryIO

import cbor2

from lib.config import Settings
from lib.db.backup import BackupError, Summary, check, dump, load
from lib.db.connection import Database, DatabaseLocked, QueryFailed, lock_data_directory, open_database
from lib.errors import ServiceUnavailable

__all__ = ["BackupSocket", "restore_backup", "serve_backups", "take_backup"]

log = logging.getLogger("kiroshi.backup")

REQUEST = b"backup\n"
SUN_PATH_MAX = 107  # bytes of a Unix socket's path (sockaddr_un.sun_path, with its NUL)


def socket_path(database: Path) -> Path:
    return database.with_name(f"{database.name}.sock")


def _database_path(settings: Settings, verb: str, server_tool: str) -> Path:
    path = settings.database_path
    if path is None:
        raise BackupError(
            f"{verb} works on the embedded database on disk (KIROSHI_DATABASE_URL=surrealkv://...); for a SurrealDB "
            f"server use `surreal {server_tool}` (README, Operations)"
        )
    return path


class BackupSocket:
    """Answers backup requests on a Unix socket, one at a time, on a thread of its own."""

    def __init__(self, db: Database, path: Path) -> None:
        self._db = db
        self._path = path
        self._stopped = threading.Event()
        path.unlink(missing_ok=True)  # a crashed runner's: this process holds the database lock
        self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._socket.bind(str(path.absolute()))
        os.chmod(path, 0o600)
        self._socket.listen(4)
        self._socket.settimeout(0.5)  # how soon close() is noticed
        self._thread = threading.Thread(target=self._serve, name="kiroshi-backup", daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stopped.is_set():
            try:
                connection, _ = self._socket.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with connection:
                try:
                    self._answer(connection)
                except Exception:  # a front door: one failed backup must not stop the next
                    log.exception("backup failed")

    def _answer(self, connection: socket.socket) -> None:
        connection.settimeout(10)
        with connection.makefile("wb") as out:
            try:
                if not _same_user(connection):
                    cbor2.dump({"error": "only the runner's own user may take a backup"}, out)
                    return
                with connection.makefile("rb") as requests:
                    if requests.readline(64) != REQUEST:
                        return
                connection.settimeout(None)
                started = time.monotonic()
                summary = dump(self._db, out)
                log.info("backup: %d records in %.1f s", summary.rows, time.monotonic() - started)
            except (QueryFailed, ServiceUnavailable) as exc:
                log.error("backup failed: %s", exc)
                cbor2.dump({"error": "the database could not be read: see the runner's log"}, out)
            except OSError as exc:  # the client went away
                log.warning("backup abandoned by its client: %s", exc)

    def close(self) -> None:
        self._stopped.set()
        self._socket.close()
        self._thread.join(timeout=5)
        self._path.unlink(missing_ok=True)


def _same_user(connection: socket.socket) -> bool:
    credentials = connection.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    _pid, uid, _gid = struct.unpack("3i", credentials)
    return uid in (os.getuid(), 0)


def serve_backups(db: Database, settings: Settings) -> BackupSocket | None:
    """The backup socket of a runner on an embedded database on disk (None for other databases, or
    when the socket's path is too long for a Unix socket: then say how to take a backup instead)."""
    if settings.database_path is None:
        return None
    path = socket_path(settings.database_path)
    if len(os.fsencode(path.absolute())) > SUN_PATH_MAX:
        log.warning("backups of the running process are unavailable: %s is too long for a Unix socket", path)
        return None
    return BackupSocket(db, path)


def _ask_runner(path: Path, partial: Path) -> bool:
    """Stream a backup from the runner that owns `path`; False when none answers there."""
    address = socket_path(path).absolute()
    if len(os.fsencode(address)) > SUN_PATH_MAX:  # no runner listens there either (serve_backups)
        return False
    client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        client.connect(str(address))
    except (FileNotFoundError, ConnectionRefusedError):
        client.close()
        return False
    with client, _private(partial) as out:
        client.sendall(REQUEST)
        while chunk := client.recv(1 << 20):
            out.write(chunk)
        out.flush()
        os.fsync(out.fileno())
    return True


def _private(path: Path) -> BinaryIO:
    """`path` opened for writing, readable by its owner only: a backup holds every account's data."""
    return os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb")


def _read_locally(settings: Settings, path: Path, partial: Path) -> None:
    try:
        db = open_database(settings)
    except DatabaseLocked as exc:
        raise BackupError(f"{exc}; it does not answer backups on {socket_path(path)} (starting, or older?)") from None
    try:
        with _private(partial) as out:
            dump(db, out)
            os.fsync(out.fileno())
    finally:
        db.close()


def take_backup(settings: Settings, target: Path) -> Summary:
    """Write a consistent backup of the embedded database to `target`, from the running runner when
    there is one. The file appears only once it is complete and checked. Raises BackupError."""
    path = _database_path(settings, "backup", "export")
    if not path.exists():
        raise BackupError(f"there is no database at {path}")
    partial = target.with_name(f"{target.name}.partial")
    try:
        if not _ask_runner(path, partial):
            _read_locally(settings, path, partial)
        with partial.open("rb") as written:
            summary = check(written)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return summary


def restore_backup(settings: Settings, source: Path) -> Summary:
    """Load `source` as the embedded database. Raises BackupError for a database that is not empty or
    a file that is not a whole backup, DatabaseLocked while a runner holds the data directory."""
    path = _database_path(settings, "restore", "import")
    with source.open("rb") as backup:
        check(backup)  # the whole file, before anything is touched
    lock = lock_data_directory(settings)
    try:
        if path.exists() and any(path.iterdir()):
            raise BackupError(f"{path} is not empty: restore loads into an empty database (move it away first)")
        scratch = path.with_name(f"{path.name}.restoring")
        shutil.rmtree(scratch, ignore_errors=True)  # a failed restore's: we hold the lock
        db = open_database(settings.with_(database_url=f"surrealkv://{scratch}"))
        try:
            with source.open("rb") as backup:
                summary = load(db, backup)
        finally:
            db.close()
            Path(f"{scratch}.lock").unlink(missing_ok=True)
        if path.exists():
            path.rmdir()
        os.rename(scratch, path)
        _fsync_directory(path.parent)
        return summary
    finally:
        if lock is not None:
            lock.close()


def _fsync_directory(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
