"""Antre server: the app factory and the command line.

    python server.py serve --host 0.0.0.0 --port 5000 --data-dir data --demo
    python server.py token create --data-dir data --role display --name "TV lobi"
    python server.py user create --data-dir data --username sari --role counter --password-stdin
    python server.py audit verify --data-dir data
    python server.py --help
"""

from __future__ import annotations

import sys

if __name__ == "__main__" and len(sys.argv) > 1 and sys.argv[1] in ("serve", "print-agent"):
    # gevent must patch the standard library before anything else imports it.
    from gevent import config as gevent_config
    from gevent import monkey

    # No spawning stack and greenlet tree (a debugging aid): each greenlet would keep
    # about 5 KB of them, and every display connection has several.
    gevent_config.track_greenlet_tree = False

    monkey.patch_all()
    # Hand the GIL over quickly: work handed to the thread pool (SQLite, USB, speech)
    # otherwise waits up to the default 5 ms for a busy event loop to let go of it.
    sys.setswitchinterval(0.0005)

import gc
import logging
import os
import secrets
import signal
import socket
from datetime import timedelta
from pathlib import Path
from typing import Any

import click
from flask import Flask, jsonify, send_from_directory
from werkzeug.routing import IntegerConverter

from antre.clock import Clock
from antre.queue import Queue
from antre.store import Store
from web.context import Antre, Settings

ROOT = Path(__file__).resolve().parent
log = logging.getLogger("antre")

#: parts with pages or routes of their own; each package exposes ``bp`` (a
#: Blueprint) and may expose ``init_app(app, antre)`` for background work.
PARTS = ("kiosk", "display", "counter", "admin", "reports", "feed", "tracking")

#: browser packages served locally from node_modules (no CDN on an MPP LAN)
VENDOR_FILES = {
    "socket.io.min.js": "socket.io-client/dist/socket.io.min.js",
    "chart.umd.min.js": "chart.js/dist/chart.umd.min.js",
}


class IdConverter(IntegerConverter):
    """A positive id that fits SQLite's integer (larger ones are simply 404)."""

    def __init__(self, url_map: Any) -> None:
        super().__init__(url_map, min=1, max=2**62 - 1)


def create_app(settings: Settings, *, clock: Clock | None = None, store: Store | None = None) -> Flask:
    """Build the Flask app of one server process."""
    import importlib

    from api import bp as api_bp
    from api.openapi import bp as openapi_bp
    from web import bp as web_bp
    from web import errors
    from web.i18n import init_i18n
    from web.push import Publisher, init_push, socketio

    app = Flask(__name__, static_folder=None)
    app.url_map.converters["id"] = IdConverter
    app.url_map.strict_slashes = False
    store = store or Store(settings.data_dir)
    clock = clock or Clock(settings.tz)
    if settings.demo:
        from antre.demo import seed_demo

        if seed_demo(store):
            log.info("seeded the demo MPP into %s", store.path)
    app.config.update(
        SECRET_KEY=store.meta_get_or_create("session_secret", lambda: secrets.token_hex(32)),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_NAME="antre_session",
        PERMANENT_SESSION_LIFETIME=timedelta(days=400),
        MAX_CONTENT_LENGTH=1 * 1024 * 1024,
        JSON_SORT_KEYS=False,
    )
    app.json.sort_keys = False  # type: ignore[attr-defined]
    queue = Queue(store, clock, settings.public_url)
    app_antre = Antre(settings=settings, store=store, clock=clock, queue=queue)
    app.extensions["antre"] = app_antre

    errors.register(app)
    init_i18n(app, settings.data_dir)
    app.register_blueprint(web_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(openapi_bp)
    part_inits = []
    for name in PARTS:
        if not (ROOT / name / "__init__.py").exists():
            continue
        part = importlib.import_module(name)
        if hasattr(part, "bp"):
            app.register_blueprint(part.bp)
        if hasattr(part, "init_app"):
            part_inits.append(part.init_app)

    @app.get("/healthz")
    def healthz() -> Any:
        return jsonify({"ok": True})

    @app.get("/vendor/<path:name>")
    def vendor(name: str) -> Any:
        target = VENDOR_FILES.get(name)
        if target is None:
            return jsonify({"error": {"code": "not_found", "message": "not found"}}), 404
        response = send_from_directory(ROOT / "node_modules", target, max_age=86400)
        return response

    @app.after_request
    def security_headers(response: Any) -> Any:
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
        return response

    async_mode = "gevent" if _gevent_patched() else "threading"
    socketio.init_app(
        app,
        async_mode=async_mode,
        message_queue=settings.message_queue,
        cors_allowed_origins=[],  # same origin only
        ping_interval=20,
        ping_timeout=20,
        max_http_buffer_size=64 * 1024,
        logger=False,
        engineio_logger=False,
    )
    init_push(app_antre)
    publisher = Publisher(app_antre)
    app_antre.listeners.append(publisher.on_outcome)
    app_antre.extras["publisher"] = publisher
    for init in part_inits:
        init(app, app_antre)
    return app


def _gevent_patched() -> bool:
    from antre.blocking import gevent_active

    return gevent_active()


def _start_background(app: Flask) -> None:
    """Loops every server process runs (end-of-day close, ...)."""
    from antre.blocking import call_blocking, sleep, spawn

    app_antre: Antre = app.extensions["antre"]

    def day_closer() -> None:
        while True:
            try:
                outcome = call_blocking(app_antre.queue.close_previous_days)
                if outcome.events:
                    with app.app_context():
                        app_antre.publish(outcome)
            except Exception:  # noqa: BLE001 - retried next minute
                log.exception("closing previous days failed")
            sleep(60)

    spawn(day_closer, name="antre-day-closer")


class NoDelayWSGIServer:
    """gevent's WSGI server with TCP_NODELAY on every accepted socket.

    gevent writes a response's headers and body separately; on a keep-alive
    connection Nagle's algorithm then holds each response ~40 ms for the
    client's ACK (measured: 168 requests/s without, 1,054 with).
    """

    @staticmethod
    def make(listener: Any, app: Any) -> Any:
        from gevent import pywsgi

        class Server(pywsgi.WSGIServer):
            def handle(self, sock: Any, address: Any) -> Any:
                try:
                    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                except OSError:
                    pass
                return super().handle(sock, address)

        return Server(listener, app, log=None, error_log=logging.getLogger("antre.http"))


def _public_url(host: str, port: int) -> str:
    if host in ("0.0.0.0", "::", ""):
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                s.connect(("192.0.2.1", 9))  # no packet is sent: this only picks the LAN address
                host = s.getsockname()[0]
        except OSError:
            host = "127.0.0.1"
    return f"http://{host}:{port}"


# ----------------------------------------------------------------------- CLI


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """Antre: the queue system of a Mal Pelayanan Publik."""


data_dir_option = click.option(
    "--data-dir", type=click.Path(file_okay=False, path_type=Path), required=True,
    help="Folder holding the database (antre.db) and caches.",
)


@cli.command()
@click.option("--host", default="0.0.0.0", show_default=True, help="Address to listen on.")
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
@data_dir_option
@click.option("--demo", is_flag=True, help="Seed the demo MPP into an empty data dir.")
@click.option("--printer", default="virtual", show_default=True,
              help="Default ticket printer: usb:VID:PID, tcp://HOST:PORT, serial:/dev/ttyUSB0, cups:QUEUE, "
                   "file:DIR or virtual.")
@click.option("--message-queue", default=None, help="redis://... to share events between server processes.")
@click.option("--public-url", default=None, help="Address phones and screens use (default: this machine's LAN IP).")
@click.option("--tz", default="Asia/Jakarta", show_default=True, help="The MPP's time zone.")
def serve(host: str, port: int, data_dir: Path, demo: bool, printer: str, message_queue: str | None,
          public_url: str | None, tz: str) -> None:
    """Start the server (HTTP, Socket.IO, printing, speech)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from gevent import signal_handler

    settings = Settings(
        data_dir=data_dir, public_url=(public_url or _public_url(host, port)).rstrip("/"), printer=printer,
        message_queue=message_queue, tz=tz, demo=demo,
    )
    app = create_app(settings)
    # What start-up made (modules, the app) lives as long as the process: kept out of the
    # collector's full passes, which otherwise scan it all (pauses of ~0.1 s with 1,000 displays).
    gc.freeze()
    _start_background(app)
    server = NoDelayWSGIServer.make((host, port), app)

    def stop(*_args: Any) -> None:
        log.info("stopping")
        server.stop(timeout=5)

    signal_handler(signal.SIGTERM, stop)
    signal_handler(signal.SIGINT, stop)
    base = settings.public_url
    click.echo(
        "Antre is running.\n"
        f"  Kiosk:          {base}/kiosk\n"
        f"  Display:        {base}/display\n"
        f"  Counter:        {base}/counter\n"
        f"  Admin:          {base}/admin\n"
        f"  API:            {base}/openapi.json\n"
        f"  Data:           {data_dir.resolve()}\n"
        "Pair a device page once with ?token=... (python server.py token create --help).",
        err=False,
    )
    sys.stdout.flush()
    server.serve_forever()


@cli.group()
def token() -> None:
    """Device and integration tokens."""


@token.command("create")
@data_dir_option
@click.option("--role", type=click.Choice(["admin", "counter", "kiosk", "display", "feed"]), required=True)
@click.option("--name", required=True, help="What the token is for, e.g. 'Kiosk lobi 1'.")
def token_create(data_dir: Path, role: str, name: str) -> None:
    """Create a bearer token; it is printed once, as the last line, and stored hashed."""
    from antre.auth import create_token

    value = create_token(Store(data_dir), role, name)
    click.echo(f"Token for {role} '{name}' (shown once, keep it safe):")
    click.echo(value)


@token.command("list")
@data_dir_option
def token_list(data_dir: Path) -> None:
    """List tokens (never their values)."""
    from antre.auth import list_tokens

    for t in list_tokens(Store(data_dir)):
        state = "revoked" if t["revoked_at"] else "active"
        click.echo(f"{t['id']:>4}  {t['role']:<8} {state:<8} {t['name']}")


@token.command("revoke")
@data_dir_option
@click.argument("token_id", type=int)
def token_revoke(data_dir: Path, token_id: int) -> None:
    """Revoke a token by its id."""
    from antre.auth import revoke_token

    revoke_token(Store(data_dir), token_id, actor="cli")
    click.echo(f"Token {token_id} revoked.")


@cli.group()
def user() -> None:
    """Staff accounts."""


@user.command("create")
@data_dir_option
@click.option("--username", required=True)
@click.option("--role", type=click.Choice(["admin", "supervisor", "counter"]), required=True)
@click.option("--password-stdin", is_flag=True, required=True, help="Read the password from standard input.")
@click.option("--display-name", default="", help="Name shown on screens.")
@click.option("--tenant-id", type=int, default=None, help="Agency of a counter clerk.")
def user_create(data_dir: Path, username: str, role: str, password_stdin: bool, display_name: str,
                tenant_id: int | None) -> None:
    """Create a staff account; the password is read from standard input."""
    from antre.auth import create_user
    from antre.rules import RuleError

    password = sys.stdin.readline().rstrip("\r\n")
    try:
        user_id = create_user(Store(data_dir), username, password, role, display_name=display_name,
                              tenant_id=tenant_id)
    except RuleError as exc:
        raise click.ClickException(exc.message) from exc
    click.echo(f"User {username} ({role}) created with id {user_id}.")


@cli.group()
def audit() -> None:
    """The append-only audit log."""


@audit.command("verify")
@data_dir_option
def audit_verify(data_dir: Path) -> None:
    """Recompute the audit hash chain; exit 1 if any row was changed."""
    check = Store(data_dir).verify_audit()
    if check.ok:
        click.echo(f"Audit log OK: {check.rows} rows, hash chain intact.")
        return
    click.echo(f"AUDIT LOG TAMPERED at row {check.first_bad_id}: {check.reason}", err=True)
    sys.exit(1)


@cli.command("seed-demo")
@data_dir_option
def seed_demo_command(data_dir: Path) -> None:
    """Seed the demo MPP into an empty data dir."""
    from antre.demo import seed_demo

    click.echo("Seeded." if seed_demo(Store(data_dir)) else "The data dir already has data; nothing changed.")


def _register_optional_commands() -> None:
    try:
        from antre.doctor import doctor_command
    except ImportError:
        pass
    else:
        cli.add_command(doctor_command, "doctor")
    try:
        from kiosk.agent import print_agent_command
    except ImportError:
        pass
    else:
        cli.add_command(print_agent_command, "print-agent")
    try:
        from display.cli import audio_command
    except ImportError:
        pass
    else:
        cli.add_command(audio_command, "audio")


_register_optional_commands()

if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    cli()
