"""Device tokens and staff accounts.

Tokens are random (256 bits) and stored only as their SHA-256: a token of that
strength needs no slow hash, and a stolen database gives no usable token.
Staff passwords use scrypt (Werkzeug's default KDF) with a per-password salt.
There is no default password anywhere: accounts are made by the CLI or an admin.
"""

from __future__ import annotations

import functools
import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from werkzeug.security import check_password_hash, generate_password_hash

from antre.rules import Invalid, RuleError
from antre.store import Store

TOKEN_ROLES = ("admin", "counter", "kiosk", "display", "feed")
USER_ROLES = ("admin", "supervisor", "counter")
USERNAME_RE = re.compile(r"^[a-z0-9_.-]{3,32}$")
MIN_PASSWORD = 10
LOCK_AFTER = 5
LOCK_MINUTES = 15


@dataclass(frozen=True)
class TokenInfo:
    id: int
    name: str
    role: str


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _now() -> str:
    return datetime.now(UTC).isoformat()


def create_token(store: Store, role: str, name: str, *, actor: str = "cli", device: str | None = None) -> str:
    """Make a bearer token; only its hash is kept.  Returns the token."""
    with store.write() as db:
        token, _token_id = insert_token(store, db, role, name, actor=actor, device=device)
    return token


def insert_token(store: Store, db: Any, role: str, name: str, *, actor: str = "cli",
                 device: str | None = None) -> tuple[str, int]:
    """Make a token inside the caller's transaction (with its audit row).  Returns (token, id)."""
    if role not in TOKEN_ROLES:
        raise Invalid("invalid_role", f"Peran harus salah satu dari {', '.join(TOKEN_ROLES)}.")
    name = (name or "").strip()
    if not name or len(name) > 80:
        raise Invalid("invalid_name", "Nama token wajib diisi (maks. 80 huruf). (A token name is required.)")
    token = "antre_" + secrets.token_urlsafe(32)
    cur = db.conn.execute(
        "INSERT INTO tokens (name, role, token_hash, created_at) VALUES (?, ?, ?, ?)",
        (name, role, hash_token(token), _now()),
    )
    token_id = int(cur.lastrowid or 0)
    store.append_audit(db, actor=actor, device=device, action="token.created",
                       details={"name": name, "role": role, "token_id": token_id})
    return token, token_id


def verify_token(store: Store, token: str) -> TokenInfo | None:
    if not token or len(token) > 200:
        return None
    with store.read() as db:
        row = db.conn.execute(
            "SELECT id, name, role FROM tokens WHERE token_hash = ? AND revoked_at IS NULL", (hash_token(token),)
        ).fetchone()
    return None if row is None else TokenInfo(row["id"], row["name"], row["role"])


def token_by_id(store: Store, token_id: int) -> TokenInfo | None:
    with store.read() as db:
        row = db.conn.execute(
            "SELECT id, name, role FROM tokens WHERE id = ? AND revoked_at IS NULL", (token_id,)
        ).fetchone()
    return None if row is None else TokenInfo(row["id"], row["name"], row["role"])


def revoke_token(store: Store, token_id: int, actor: str = "admin", device: str | None = None) -> None:
    with store.write() as db:
        db.conn.execute("UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", (_now(), token_id))
        store.append_audit(db, actor=actor, device=device, action="token.revoked", details={"token_id": token_id})


def list_tokens(store: Store) -> list[dict[str, Any]]:
    with store.read() as db:
        return [
            dict(r) for r in db.conn.execute(
                "SELECT id, name, role, created_at, last_used_at, revoked_at FROM tokens ORDER BY id"
            )
        ]


def create_user(store: Store, username: str, password: str, role: str, *, display_name: str = "",
                tenant_id: int | None = None, actor: str = "cli", device: str | None = None) -> int:
    username = (username or "").strip().lower()
    if not USERNAME_RE.match(username):
        raise Invalid("invalid_username", "Nama pengguna: 3–32 huruf kecil, angka, titik, garis. (Invalid username.)")
    if role not in USER_ROLES:
        raise Invalid("invalid_role", f"Peran harus salah satu dari {', '.join(USER_ROLES)}.")
    if not isinstance(password, str) or len(password) < MIN_PASSWORD:
        raise Invalid(
            "weak_password",
            f"Kata sandi minimal {MIN_PASSWORD} karakter. (Password needs at least {MIN_PASSWORD} characters.)",
        )
    with store.write() as db:
        if db.conn.execute("SELECT 1 FROM users WHERE username = ?", (username,)).fetchone():
            raise RuleError("user_exists", f"Pengguna {username} sudah ada. (User already exists.)")
        cur = db.conn.execute(
            "INSERT INTO users (username, display_name, password_hash, role, tenant_id, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (username, display_name or username, generate_password_hash(password, method="scrypt"), role,
             tenant_id, _now()),
        )
        store.append_audit(db, actor=actor, device=device, action="user.created",
                           details={"username": username, "role": role})
        return int(cur.lastrowid or 0)


def check_login(store: Store, username: str, password: str) -> dict[str, Any]:
    """Verify a staff log-in, with lock-out after repeated failures.

    The password hash (scrypt, ~0.2 s here) is checked outside any transaction,
    so a log-in never holds the database's write lock while hashing; the result
    is then written in one short transaction that commits *before* a refusal is
    raised (raised inside it, the refusal would roll back the failure count,
    and with it the lock-out).

    Raises :class:`RuleError` (``login_failed`` or ``account_locked``).
    """
    username = (username or "").strip().lower()
    with store.read() as db:
        row = db.conn.execute("SELECT * FROM users WHERE username = ? AND active = 1", (username,)).fetchone()
    now = datetime.now(UTC)
    if row is not None and row["locked_until"] and datetime.fromisoformat(row["locked_until"]) > now:
        raise RuleError(
            "account_locked",
            "Akun dikunci sementara karena terlalu banyak percobaan. Coba lagi nanti. (Account locked.)",
        )
    # An unknown name costs the same work as a real check, so timing does not tell which names exist.
    ok = check_password_hash(_dummy_hash() if row is None else row["password_hash"], password or "") and row is not None
    with store.write() as db:
        if row is None:
            store.append_audit(db, actor=f"user:{username}", action="login.failed", details={"reason": "unknown"})
        elif not ok:
            db.conn.execute("UPDATE users SET failed_logins = failed_logins + 1 WHERE id = ?", (row["id"],))
            failed = db.conn.execute("SELECT failed_logins FROM users WHERE id = ?", (row["id"],)).fetchone()[0]
            locked = (now + timedelta(minutes=LOCK_MINUTES)).isoformat() if failed >= LOCK_AFTER else None
            if locked:
                db.conn.execute(
                    "UPDATE users SET failed_logins = 0, locked_until = ? WHERE id = ?", (locked, row["id"])
                )
            store.append_audit(db, actor=f"user:{username}", action="login.failed",
                               details={"reason": "password", "locked": bool(locked)})
        else:
            db.conn.execute("UPDATE users SET failed_logins = 0, locked_until = NULL WHERE id = ?", (row["id"],))
            store.append_audit(db, actor=f"user:{username}", action="login.ok", details={})
    if not ok:
        raise RuleError("login_failed", "Nama pengguna atau kata sandi salah. (Wrong username or password.)")
    return {k: row[k] for k in ("id", "username", "display_name", "role", "tenant_id", "session_epoch")}


def session_user(store: Store, user_id: int, epoch: int) -> dict[str, Any] | None:
    """The account of a staff session, or None when that session has ended:
    the account was deactivated, or its password was reset after the session
    began (``epoch`` is the account's ``session_epoch`` at log-in)."""
    user = get_user(store, user_id)
    if user is None or user["session_epoch"] != epoch:
        return None
    return user


def get_user(store: Store, user_id: int) -> dict[str, Any] | None:
    with store.read() as db:
        row = db.conn.execute(
            "SELECT id, username, display_name, role, tenant_id, session_epoch FROM users WHERE id = ? AND active = 1",
            (user_id,),
        ).fetchone()
    return None if row is None else dict(row)


@functools.cache
def _dummy_hash() -> str:
    """What an unknown name is checked against; made on first use, not at import (scrypt: ~0.3 s, more on a Pi)."""
    return generate_password_hash("not-a-real-password", method="scrypt")
