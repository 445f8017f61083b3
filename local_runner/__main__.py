"""`python -m local_runner` serves Kiroshi; `python -m local_runner promote|demote EMAIL` sets a role;
`python -m local_runner backup|restore FILE` backs up and restores the embedded database."""

from __future__ import annotations

import argparse
import errno
import logging
import signal
import socket
import sys
from pathlib import Path

from lib.config import ConfigError, Settings, load_settings
from lib.db.connection import DatabaseLocked
from lib.logging import configure_logging
from lib.services import create_services, warn_unverified_payments, warn_without_model_provider

log = logging.getLogger("kiroshi")


def _serve(only: str) -> int:
    import uvicorn  # noqa: PLC0415

    from functions.routes import ROUTES  # noqa: PLC0415
    from lib.http.routing import Router  # noqa: PLC0415
    from local_runner.app import RunnerApp  # noqa: PLC0415
    from local_runner.backups import serve_backups  # noqa: PLC0415
    from local_runner.logs import quiet_server_logs  # noqa: PLC0415

    quiet_server_logs()
    settings = load_settings()
    services = create_services(settings)
    warn_without_model_provider(settings)
    warn_unverified_payments(settings)
    # Compose runs the HTTP functions and the WebSocket function as separate services.
    routes = [
        r for r in ROUTES if only == "all" or r.websocket == (only == "websocket") or r.name.startswith("health.")
    ]
    app = RunnerApp(services, Router(routes))
    backups = None
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        loop="uvloop",
        http="httptools",
        ws="websockets-sansio",
        lifespan="on",
        access_log=False,
        log_config=None,
        ws_max_size=64 * 1024,  # larger frames close the socket with 1009
        ws_ping_interval=20.0,
        ws_ping_timeout=20.0,
        ws_per_message_deflate=False,  # ~53 KB per idle socket with it, ~16 KB without
        server_header=False,
        # The client address is the peer's, or KIROSHI_CLIENT_IP_HEADER's when configured (Nginx sets
        # it): uvicorn would otherwise take X-Forwarded-For from any loopback peer.
        proxy_headers=False,
        timeout_graceful_shutdown=10,
    )
    # uvicorn stops gracefully on SIGTERM, then raises it again under the handler it found: under
    # Python's default one the process would die there, before the `finally` below closes everything.
    signal.signal(signal.SIGTERM, _stopped)
    try:
        sock = _listen(settings.host, settings.port)
        backups = serve_backups(services.db, settings)  # `python -m local_runner backup` asks it
        log.info("kiroshi listening on http://%s:%d (database: %s)", settings.host, settings.port, services.db.adapter)
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        if backups is not None:
            backups.close()
        app.close()
        services.close()
    return 0


def _stopped(signum: int, frame: object) -> None:
    raise SystemExit(0)


def _listen(host: str, port: int) -> socket.socket:
    """The listening socket, with TCP_NODELAY (accepted sockets inherit it): a streamed delta must
    leave at once, not wait for Nagle's algorithm and the client's delayed ACK (~40 ms).

    Raises ConfigError (one line for the operator, no traceback) when the address cannot be bound."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise ConfigError(
                f"port {port} on {host} is already in use: stop what listens there, or set KIROSHI_PORT to a free port"
            ) from None
        raise ConfigError(
            f"cannot listen on {host}:{port} ({exc.strerror}): check KIROSHI_HOST and KIROSHI_PORT"
        ) from None
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def _set_role(email: str, role: str) -> int:
    from lib.accounts import repository as users  # noqa: PLC0415
    from lib.accounts.rules import normalize_email  # noqa: PLC0415

    try:
        email = normalize_email(email)
    except ValueError as exc:
        print(f"kiroshi: not a valid e-mail address: {exc}", file=sys.stderr)  # noqa: T201
        return 2
    services = create_services(load_settings())
    try:
        user = users.set_role_by_email(services.db, email, role, services.now())
    finally:
        services.close()
    if user is None:
        print(f"no account with e-mail {email}", file=sys.stderr)  # noqa: T201
        return 1
    print(f"{user.email} ({user.user_id}) is now {role}")  # noqa: T201
    return 0


def _backup(verb: str, file: Path, settings: Settings) -> int:
    from lib.db.backup import BackupError  # noqa: PLC0415
    from local_runner.backups import restore_backup, take_backup  # noqa: PLC0415

    try:
        summary = take_backup(settings, file) if verb == "backup" else restore_backup(settings, file)
    except (BackupError, OSError) as exc:
        print(f"kiroshi: {verb} failed: {exc}", file=sys.stderr)  # noqa: T201
        return 1
    level = summary.migrations[-1] if summary.migrations else "none"
    print(  # noqa: T201
        f"{verb}: {file}: {summary.rows} records in {len(summary.tables)} tables, "
        f"as of {summary.taken_at}, migrations through {level}"
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local_runner", description=__doc__)
    commands = parser.add_subparsers(dest="command")
    serve = commands.add_parser("serve", help="serve the API (the default)")
    serve.add_argument(
        "--only",
        choices=["all", "http", "websocket"],
        default="all",
        help="serve only the HTTP functions, or only the WebSocket session (and health)",
    )
    for verb, help_text in (("promote", "make the account an admin"), ("demote", "make the admin a user")):
        command = commands.add_parser(verb, help=help_text)
        command.add_argument("email")
    for verb, help_text in (
        ("backup", "write a consistent backup of the embedded database to FILE (while the runner serves, or not)"),
        ("restore", "load FILE into an empty embedded database (with the runner stopped)"),
    ):
        command = commands.add_parser(verb, help=help_text)
        command.add_argument("file", type=Path)
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
        configure_logging(settings.log_level, settings.loki_url)
        if args.command == "promote":
            return _set_role(args.email, "admin")
        if args.command == "demote":
            return _set_role(args.email, "user")
        if args.command in ("backup", "restore"):
            return _backup(args.command, args.file, settings)
        return _serve(getattr(args, "only", "all"))
    except (ConfigError, DatabaseLocked) as exc:
        print(f"kiroshi: {exc}", file=sys.stderr)  # noqa: T201
        return 2


if __name__ == "__main__":
    sys.exit(main())
