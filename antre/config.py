"""Configuration of one MPP: tenants, services, counters, staff, devices, settings.

Plain Python over :class:`~antre.store.Store`, used by the admin pages (and by
anything else that changes the set-up).  Two promises hold for every change:

* **A refused input changes nothing.**  Input is checked before anything is
  written, and what can only be checked against the database (a prefix already
  taken, a tenant that does not exist) is checked inside the same
  ``BEGIN IMMEDIATE`` transaction as the write: a refusal rolls all of it back,
  the audit row included.  Refusals are :class:`~antre.rules.Invalid` (400),
  :class:`~antre.rules.NotFound` (404) or :class:`~antre.rules.RuleError` (409)
  with a message in Bahasa Indonesia, English in brackets, and ``details.field``
  naming the form field at fault.
* **Every accepted change is audited** in the same transaction: who (the
  :class:`~antre.queue.Actor` label), from which device, and the fields that
  changed with their old and new values (never a password or a token).

Each change returns a :class:`Change`; its ``what`` says which live views it
touches (``tenants``, ``services``, ``counters``, ``settings``, ``devices``,
``users``), so that the web layer can tell kiosks and displays to redraw.

Settings keys (``settings`` table, JSON values; :data:`SETTING_DEFAULTS`):

``mpp_name``            the MPP's name on displays, kiosks and tickets
``running_text``        the marquee on waiting-room displays
``voice``               ``{"number_style": "whole"|"digits", "zero_word": "nol"|"kosong",
                        "template_id", "template_en", "repeats": 1..5, "chime": bool}``
``speech_backend``      ``pyttsx3`` | ``espeak`` | ``tone``; ``audio_output``: ``browser`` (the displays
                        play calls) | ``server`` (the server's own sound card); ``audio_device``: an ALSA
                        device for server output (checked by :func:`antre.announce.check_output_setting`)
``kiosk_idle_seconds``  idle time before a kiosk returns to its start screen
``ticket_footer``       text printed at the bottom of every ticket (up to 4 lines)
``printers``            ``{"<kiosk token id>": URI}``: the printer of each kiosk; a URI as
                        for ``serve --printer``, or ``agent`` (the kiosk's own print agent);
                        a kiosk not listed prints on the server's default printer
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import sqlite3
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlite_utils
from werkzeug.security import generate_password_hash

from antre import auth
from antre.clock import Clock, iso
from antre.queue import Actor
from antre.rules import (
    WEEKDAYS,
    Invalid,
    NotFound,
    PriorityRule,
    RuleError,
    _minutes,
    valid_prefix,
    validate_hours,
)
from antre.store import Store

# --------------------------------------------------------------------------- limits

TENANT_CODE_RE = re.compile(r"^[A-Z0-9]{2,16}$")
ICON_RE = re.compile(r"^[a-z0-9-]{0,32}$")
ZONE_RE = re.compile(r"^([a-z0-9][a-z0-9-]{0,31})?$")
MAX_QUOTA = 100_000
MAX_STANDARD_MINUTES = 480
MAX_SORT = 9999
MAX_PASSWORD = 200

#: token roles that a device page can be paired to by a short code
PAIRABLE_ROLES = ("kiosk", "display")
PAIR_CODE_DIGITS = 6
PAIR_CODE_SECONDS = 600
#: unpaired, unexpired codes allowed at once (a flood of requests cannot grow the table)
MAX_OPEN_PAIR_CODES = 50

NUMBER_STYLES = ("whole", "digits")
ZERO_WORDS = ("nol", "kosong")
MAX_REPEATS = 5
VOICE_DEFAULTS: dict[str, Any] = {
    "number_style": "whole",
    "zero_word": "nol",
    "template_id": "Nomor antrian {number}, silakan menuju {counter}",
    "template_en": "Queue number {number}, please proceed to {counter}",
    "repeats": 1,
    "chime": True,
}
SETTING_DEFAULTS: dict[str, Any] = {
    "mpp_name": "Mal Pelayanan Publik",
    "running_text": "",
    "voice": VOICE_DEFAULTS,
    "speech_backend": "pyttsx3",
    "audio_output": "browser",
    "audio_device": "",
    "kiosk_idle_seconds": 30,
    "ticket_footer": "",
    "printers": {},
}
#: settings that kiosks and displays may see (sent with ``config:changed``)
PUBLIC_SETTINGS = ("mpp_name", "running_text", "voice", "audio_output", "kiosk_idle_seconds", "ticket_footer")
#: the speech output settings, each with the message for a refused value
OUTPUT_SETTINGS = {
    "speech_backend": "Mesin suara harus pyttsx3, espeak atau tone. (Speech engine: pyttsx3, espeak or tone.)",
    "audio_output": "Keluaran suara: layar (browser) atau server. (Audio output: browser or server.)",
    "audio_device": "Perangkat audio: nama perangkat ALSA tanpa spasi (maks. 100 karakter), atau kosong. "
                    "(Audio device: an ALSA device name without spaces, or empty.)",
}

DAY_NAMES = {
    "mon": ("Senin", "Monday"), "tue": ("Selasa", "Tuesday"), "wed": ("Rabu", "Wednesday"),
    "thu": ("Kamis", "Thursday"), "fri": ("Jumat", "Friday"), "sat": ("Sabtu", "Saturday"),
    "sun": ("Minggu", "Sunday"),
}


@dataclass
class Change:
    """What an accepted change did.  ``changes`` maps a field to ``[old, new]``."""

    entity: str
    id: int | None
    action: str | None
    what: frozenset[str] = frozenset()
    changes: dict[str, Any] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return self.action is not None


# ------------------------------------------------------------------ field checks


def _refuse(code: str, field_name: str, message: str, status: type[RuleError] = Invalid) -> RuleError:
    return status(code, message, field=field_name)


def clean_text(value: Any, field_name: str, label: tuple[str, str], *, max_len: int = 80, min_len: int = 1,
               required: bool = True, multiline: bool = False) -> str:
    """A trimmed single-line (or multi-line) text without control characters."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise _refuse(f"invalid_{field_name}", field_name,
                      f"{label[0]} harus berupa teks. ({label[1]} must be text.)")
    text = value.replace("\r\n", "\n").strip()
    if not multiline:
        text = re.sub(r"\s+", " ", text)
    allowed = {"\n"} if multiline else set()
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co") and ch not in allowed for ch in text):
        raise _refuse(f"invalid_{field_name}", field_name,
                      f"{label[0]} berisi karakter yang tidak diizinkan. ({label[1]} contains a forbidden character.)")
    if not text and required:
        raise _refuse(f"missing_{field_name}", field_name,
                      f"{label[0]} wajib diisi. ({label[1]} is required.)")
    if text and len(text) < min_len:
        raise _refuse(f"invalid_{field_name}", field_name,
                      f"{label[0]} minimal {min_len} karakter. ({label[1]} needs at least {min_len} characters.)")
    if len(text) > max_len:
        raise _refuse(f"invalid_{field_name}", field_name,
                      f"{label[0]} maksimal {max_len} karakter. ({label[1]}: at most {max_len} characters.)")
    return text


def clean_int(value: Any, field_name: str, label: tuple[str, str], low: int, high: int, *,
              optional: bool = False) -> int | None:
    """A whole number in ``[low, high]``; a form's digit string is accepted too.

    With ``optional``, an empty value is None (e.g. "no quota").
    """
    if isinstance(value, str):
        value = value.strip()
        if value == "":
            value = None
        elif re.fullmatch(r"-?\d{1,9}", value):
            value = int(value)
        else:
            value = "invalid"
    if value is None:
        if optional:
            return None
        raise _refuse(f"missing_{field_name}", field_name, f"{label[0]} wajib diisi. ({label[1]} is required.)")
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise _refuse(
            f"invalid_{field_name}", field_name,
            f"{label[0]} harus bilangan bulat {low}–{high}. ({label[1]} must be a whole number from {low} to {high}.)",
        )
    return value


def clean_bool(value: Any) -> bool:
    """A checkbox or JSON boolean: ``on``/``1``/``true``/True are true, the rest false."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "on", "yes", "ya")
    return bool(value) if isinstance(value, int) else False


def clean_prefix(value: Any) -> str:
    """A service prefix: 1–3 capital letters (lower case is raised to capitals)."""
    text = value.strip().upper() if isinstance(value, str) else ""
    if not text:
        raise _refuse("missing_code", "code", "Prefiks nomor wajib diisi. (The number prefix is required.)")
    if not valid_prefix(text):
        raise _refuse("invalid_prefix", "code",
                      "Prefiks nomor harus 1–3 huruf A–Z, misalnya A atau KIA. "
                      "(The prefix must be 1–3 letters A–Z, e.g. A or KIA.)")
    return text


def clean_tenant_code(value: Any) -> str:
    text = value.strip().upper() if isinstance(value, str) else ""
    if not text:
        raise _refuse("missing_code", "code", "Kode instansi wajib diisi. (The agency code is required.)")
    if not TENANT_CODE_RE.match(text):
        raise _refuse("invalid_tenant_code", "code",
                      "Kode instansi harus 2–16 huruf A–Z atau angka, tanpa spasi, misalnya DUKCAPIL. "
                      "(The agency code must be 2–16 letters or digits, e.g. DUKCAPIL.)")
    return text


def clean_icon(value: Any) -> str:
    text = value.strip().lower() if isinstance(value, str) else ""
    if not ICON_RE.match(text):
        raise _refuse("invalid_icon", "icon",
                      "Ikon: maksimal 32 huruf kecil, angka atau tanda hubung, misalnya id-card. "
                      "(Icon: up to 32 lower-case letters, digits or hyphens.)")
    return text


def clean_zone(value: Any) -> str:
    """A zone name as displays use it in ``?zone=``: lower case, digits and hyphens."""
    text = value.strip().lower() if isinstance(value, str) else ""
    text = re.sub(r"\s+", "-", text)
    if not ZONE_RE.match(text):
        raise _refuse("invalid_zone", "zone",
                      "Zona: maksimal 32 huruf kecil, angka atau tanda hubung, misalnya lantai-1. "
                      "(Zone: up to 32 lower-case letters, digits or hyphens, e.g. lantai-1.)")
    return text


def clean_priority_rule(value: Any) -> str:
    try:
        rule = PriorityRule.parse(value if isinstance(value, str) else "not a rule")
    except Invalid as exc:
        raise _refuse(exc.code, "priority_rule", exc.message) from None
    if rule.kind == "interleave" and rule.every > 20:
        raise _refuse("invalid_priority_rule", "priority_rule",
                      "Selang prioritas N harus 1–20. (The interleave N must be 1–20.)")
    return str(rule)


def clean_hours(value: Any) -> dict[str, list[list[str]]]:
    """Opening hours per weekday; spans of one day must not overlap."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            value = None
    try:
        hours = validate_hours(value)
    except Invalid as exc:
        raise _refuse(exc.code, "hours", exc.message) from None
    for day, spans in hours.items():
        for (_s1, e1), (s2, _e2) in zip(spans, spans[1:], strict=False):
            if _minutes(s2) < _minutes(e1):
                name_id, name_en = DAY_NAMES[day]
                raise _refuse("overlapping_hours", "hours",
                              f"Jam buka hari {name_id} saling tumpang tindih. ({name_en}: opening spans overlap.)")
    return {day: hours.get(day, []) for day in WEEKDAYS}


def clean_id_list(value: Any, field_name: str, label: tuple[str, str]) -> list[int]:
    if isinstance(value, str):
        value = [v for v in re.split(r"[,\s]+", value) if v]
    if not isinstance(value, list | tuple):
        raise _refuse(f"invalid_{field_name}", field_name, f"{label[0]} tidak sah. ({label[1]} is invalid.)")
    out: list[int] = []
    for item in value:
        number = clean_int(item, field_name, label, 1, 2**62)
        if number not in out:
            out.append(number)  # type: ignore[arg-type]
    return out


def _only(fields: Mapping[str, Any], allowed: Iterable[str]) -> None:
    unknown = sorted(set(fields) - set(allowed))
    if unknown:
        raise Invalid("unknown_field", f"Isian tidak dikenal: {', '.join(unknown)}. (Unknown field.)",
                      field=unknown[0])


def _diff(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, list[Any]]:
    return {k: [old.get(k), v] for k, v in new.items() if old.get(k) != v}


# ------------------------------------------------------------------------ labels

L_NAME_ID = ("Nama (Bahasa Indonesia)", "Name (Indonesian)")
L_NAME_EN = ("Nama (Bahasa Inggris)", "Name (English)")
L_SORT = ("Urutan", "Order")
L_QUOTA_WALKIN = ("Kuota datang langsung", "Walk-in quota")
L_QUOTA_ONLINE = ("Kuota online", "Online quota")
L_STANDARD = ("Waktu standar pelayanan (menit)", "Standard service time (minutes)")
L_TENANT = ("Instansi", "Agency")
L_COUNTER_NAME = ("Nama loket", "Counter name")
L_SERVICES = ("Layanan yang dilayani", "Services served")
L_DISPLAY_NAME = ("Nama tampilan", "Display name")
L_DEVICE_NAME = ("Nama perangkat", "Device name")


# ----------------------------------------------------------------------- Config


class Config:
    """The set-up of one MPP over one :class:`Store` (see the module docstring)."""

    def __init__(self, store: Store, clock: Clock | None = None) -> None:
        self.store = store
        self.clock = clock or Clock()

    # -------------------------------------------------------------- helpers

    def _audit(self, db: sqlite_utils.Database, actor: Actor, action: str, details: dict[str, Any]) -> None:
        self.store.append_audit(db, actor=actor.label, device=actor.device, action=action, details=details)

    @staticmethod
    def _row(db: sqlite_utils.Database, sql: str, args: tuple[Any, ...]) -> dict[str, Any] | None:
        row = db.conn.execute(sql, args).fetchone()
        return None if row is None else dict(row)

    def _utc_now(self) -> datetime:
        return self.clock.now().astimezone(UTC)

    # ------------------------------------------------------------------ tenants

    TENANT_FIELDS = ("code", "name_id", "name_en", "icon", "sort")

    def _clean_tenant(self, fields: Mapping[str, Any], current: Mapping[str, Any] | None) -> dict[str, Any]:
        _only(fields, self.TENANT_FIELDS)
        merged = {**(current or {}), **fields}
        name_id = clean_text(merged.get("name_id"), "name_id", L_NAME_ID, min_len=2)
        return {
            "code": clean_tenant_code(merged.get("code")),
            "name_id": name_id,
            "name_en": clean_text(merged.get("name_en"), "name_en", L_NAME_EN, required=False) or name_id,
            "icon": clean_icon(merged.get("icon", "")),
            "sort": clean_int(merged.get("sort", 0), "sort", L_SORT, 0, MAX_SORT, optional=True) or 0,
        }

    def tenants(self, *, include_inactive: bool = True) -> list[dict[str, Any]]:
        with self.store.read() as db:
            rows = db.conn.execute(
                "SELECT t.*, (SELECT COUNT(*) FROM services s WHERE s.tenant_id = t.id AND s.active = 1) AS services "
                "FROM tenants t WHERE (? OR t.active = 1) ORDER BY t.sort, t.id", (include_inactive,),
            )
            return [dict(r) for r in rows]

    def tenant(self, tenant_id: int) -> dict[str, Any]:
        with self.store.read() as db:
            return self._tenant(db, tenant_id)

    def _tenant(self, db: sqlite_utils.Database, tenant_id: Any) -> dict[str, Any]:
        row = None
        if isinstance(tenant_id, int) and not isinstance(tenant_id, bool):
            row = self._row(db, "SELECT * FROM tenants WHERE id = ?", (tenant_id,))
        if row is None:
            raise NotFound("tenant_not_found", "Instansi tidak ditemukan. (Agency not found.)", field="tenant_id")
        return row

    def _check_tenant_code(self, db: sqlite_utils.Database, code: str, own_id: int | None) -> None:
        if db.conn.execute("SELECT 1 FROM tenants WHERE code = ? AND id IS NOT ?", (code, own_id)).fetchone():
            raise _refuse("tenant_code_taken", "code",
                          f"Kode instansi {code} sudah dipakai. (Agency code {code} is already in use.)", RuleError)

    def create_tenant(self, actor: Actor, fields: Mapping[str, Any]) -> Change:
        clean = self._clean_tenant(fields, None)
        with self.store.write() as db:
            self._check_tenant_code(db, clean["code"], None)
            cur = db.conn.execute(
                "INSERT INTO tenants (code, name_id, name_en, icon, sort) VALUES (:code, :name_id, :name_en, :icon, "
                ":sort)", clean,
            )
            tenant_id = int(cur.lastrowid or 0)
            self._audit(db, actor, "tenant.created", {"tenant_id": tenant_id, **clean})
        return Change("tenant", tenant_id, "tenant.created", frozenset({"tenants"}), data=clean)

    def update_tenant(self, actor: Actor, tenant_id: int, fields: Mapping[str, Any]) -> Change:
        with self.store.write() as db:
            current = self._tenant(db, tenant_id)
            clean = self._clean_tenant(fields, current)
            changes = _diff(current, clean)
            if not changes:
                return Change("tenant", tenant_id, None)
            self._check_tenant_code(db, clean["code"], tenant_id)
            db.conn.execute(
                "UPDATE tenants SET code = :code, name_id = :name_id, name_en = :name_en, icon = :icon, sort = :sort "
                "WHERE id = :id", {**clean, "id": tenant_id},
            )
            self._audit(db, actor, "tenant.updated", {"tenant_id": tenant_id, "changes": changes})
        return Change("tenant", tenant_id, "tenant.updated", frozenset({"tenants", "services"}), changes)

    def set_tenant_active(self, actor: Actor, tenant_id: int, active: bool) -> Change:
        """Retire or restore a tenant.  Retiring also retires its services (kiosks
        list services, not tenants); restoring leaves them retired, to be
        restored one by one."""
        with self.store.write() as db:
            current = self._tenant(db, tenant_id)
            if bool(current["active"]) == active:
                return Change("tenant", tenant_id, None)
            details: dict[str, Any] = {"tenant_id": tenant_id, "code": current["code"]}
            if not active:
                ids = [r[0] for r in db.conn.execute(
                    "SELECT id FROM services WHERE tenant_id = ? AND active = 1 ORDER BY id", (tenant_id,))]
                db.conn.execute("UPDATE services SET active = 0 WHERE tenant_id = ?", (tenant_id,))
                details["services_deactivated"] = ids
            db.conn.execute("UPDATE tenants SET active = ? WHERE id = ?", (int(active), tenant_id))
            action = "tenant.activated" if active else "tenant.deactivated"
            self._audit(db, actor, action, details)
        return Change("tenant", tenant_id, action, frozenset({"tenants", "services"}), data=details)

    # ----------------------------------------------------------------- services

    SERVICE_FIELDS = ("tenant_id", "code", "name_id", "name_en", "icon", "hours", "quota_walkin", "quota_online",
                      "standard_minutes", "priority_rule", "sort")

    def _clean_service(self, fields: Mapping[str, Any], current: Mapping[str, Any] | None) -> dict[str, Any]:
        _only(fields, self.SERVICE_FIELDS)
        merged = {**(current or {}), **fields}
        name_id = clean_text(merged.get("name_id"), "name_id", L_NAME_ID, min_len=2)
        return {
            "tenant_id": clean_int(merged.get("tenant_id"), "tenant_id", L_TENANT, 1, 2**62),
            "code": clean_prefix(merged.get("code")),
            "name_id": name_id,
            "name_en": clean_text(merged.get("name_en"), "name_en", L_NAME_EN, required=False) or name_id,
            "icon": clean_icon(merged.get("icon", "")),
            "hours": clean_hours(merged.get("hours")),
            "quota_walkin": clean_int(merged.get("quota_walkin"), "quota_walkin", L_QUOTA_WALKIN, 0, MAX_QUOTA,
                                      optional=True),
            "quota_online": clean_int(merged.get("quota_online"), "quota_online", L_QUOTA_ONLINE, 0, MAX_QUOTA,
                                      optional=True),
            "standard_minutes": clean_int(merged.get("standard_minutes", 10), "standard_minutes", L_STANDARD, 1,
                                          MAX_STANDARD_MINUTES),
            "priority_rule": clean_priority_rule(merged.get("priority_rule", "strict")),
            "sort": clean_int(merged.get("sort", 0), "sort", L_SORT, 0, MAX_SORT, optional=True) or 0,
        }

    @staticmethod
    def _service_row(row: Mapping[str, Any]) -> dict[str, Any]:
        service = dict(row)
        service["hours"] = json.loads(service["hours"])
        return service

    def services(self, *, tenant_id: int | None = None, include_inactive: bool = True) -> list[dict[str, Any]]:
        with self.store.read() as db:
            rows = db.conn.execute(
                "SELECT s.*, t.name_id AS tenant_name, t.code AS tenant_code FROM services s "
                "JOIN tenants t ON t.id = s.tenant_id WHERE (? IS NULL OR s.tenant_id = ?) AND (? OR s.active = 1) "
                "ORDER BY t.sort, t.id, s.sort, s.id", (tenant_id, tenant_id, include_inactive),
            )
            return [self._service_row(r) for r in rows]

    def service(self, service_id: int) -> dict[str, Any]:
        with self.store.read() as db:
            return self._service(db, service_id)

    def _service(self, db: sqlite_utils.Database, service_id: Any) -> dict[str, Any]:
        row = None
        if isinstance(service_id, int) and not isinstance(service_id, bool):
            row = self._row(db, "SELECT * FROM services WHERE id = ?", (service_id,))
        if row is None:
            raise NotFound("service_not_found", "Layanan tidak ditemukan. (Service not found.)", field="service_id")
        return self._service_row(row)

    def _check_service(self, db: sqlite_utils.Database, clean: Mapping[str, Any], own_id: int | None) -> None:
        tenant = self._tenant(db, clean["tenant_id"])
        if db.conn.execute("SELECT 1 FROM services WHERE code = ? AND id IS NOT ?", (clean["code"], own_id)).fetchone():
            raise _refuse("prefix_taken", "code",
                          f"Prefiks {clean['code']} sudah dipakai layanan lain. "
                          f"(Prefix {clean['code']} is already used by another service.)", RuleError)
        if own_id is None and not tenant["active"]:
            raise _refuse("tenant_inactive", "tenant_id",
                          "Instansi ini tidak aktif; aktifkan dulu. (This agency is inactive; activate it first.)",
                          RuleError)

    @staticmethod
    def _service_params(clean: Mapping[str, Any]) -> dict[str, Any]:
        return {**clean, "hours": json.dumps(clean["hours"])}

    def create_service(self, actor: Actor, fields: Mapping[str, Any]) -> Change:
        clean = self._clean_service(fields, None)
        with self.store.write() as db:
            self._check_service(db, clean, None)
            cur = db.conn.execute(
                "INSERT INTO services (tenant_id, code, name_id, name_en, icon, hours, quota_walkin, quota_online, "
                "standard_minutes, priority_rule, sort) VALUES (:tenant_id, :code, :name_id, :name_en, :icon, :hours, "
                ":quota_walkin, :quota_online, :standard_minutes, :priority_rule, :sort)",
                self._service_params(clean),
            )
            service_id = int(cur.lastrowid or 0)
            self._audit(db, actor, "service.created", {"service_id": service_id, **clean})
        return Change("service", service_id, "service.created", frozenset({"services"}), data=clean)

    def update_service(self, actor: Actor, service_id: int, fields: Mapping[str, Any]) -> Change:
        with self.store.write() as db:
            current = self._service(db, service_id)
            clean = self._clean_service(fields, current)
            changes = _diff(current, clean)
            if not changes:
                return Change("service", service_id, None)
            self._check_service(db, clean, service_id)
            if "code" in changes and db.conn.execute(
                "SELECT 1 FROM tickets WHERE origin_service_id = ? AND day = ? LIMIT 1",
                (service_id, self.clock.today().isoformat()),
            ).fetchone():
                raise _refuse("prefix_in_use_today", "code",
                              "Prefiks tidak dapat diubah karena hari ini sudah ada nomor dengan prefiks lama; "
                              "ubah besok sebelum layanan buka. (The prefix cannot change once numbers were issued "
                              "today; change it tomorrow before opening.)", RuleError)
            db.conn.execute(
                "UPDATE services SET tenant_id = :tenant_id, code = :code, name_id = :name_id, name_en = :name_en, "
                "icon = :icon, hours = :hours, quota_walkin = :quota_walkin, quota_online = :quota_online, "
                "standard_minutes = :standard_minutes, priority_rule = :priority_rule, sort = :sort WHERE id = :id",
                {**self._service_params(clean), "id": service_id},
            )
            self._audit(db, actor, "service.updated", {"service_id": service_id, "code": clean["code"],
                                                       "changes": changes})
        return Change("service", service_id, "service.updated", frozenset({"services"}), changes)

    def set_service_active(self, actor: Actor, service_id: int, active: bool) -> Change:
        """Retire or restore a service.  A retired service takes no new tickets;
        tickets already waiting stay and counters can still call them."""
        with self.store.write() as db:
            current = self._service(db, service_id)
            if bool(current["active"]) == active:
                return Change("service", service_id, None)
            if active and not self._tenant(db, current["tenant_id"])["active"]:
                raise _refuse("tenant_inactive", "tenant_id",
                              "Instansi layanan ini tidak aktif; aktifkan dulu instansinya. "
                              "(The service's agency is inactive; activate it first.)", RuleError)
            waiting = db.conn.execute(
                "SELECT COUNT(*) FROM tickets WHERE service_id = ? AND day = ? AND status = 'waiting'",
                (service_id, self.clock.today().isoformat()),
            ).fetchone()[0]
            db.conn.execute("UPDATE services SET active = ? WHERE id = ?", (int(active), service_id))
            action = "service.activated" if active else "service.deactivated"
            details = {"service_id": service_id, "code": current["code"], "waiting": waiting}
            self._audit(db, actor, action, details)
        return Change("service", service_id, action, frozenset({"services"}), data=details)

    # ----------------------------------------------------------------- counters

    COUNTER_FIELDS = ("name", "zone", "service_ids", "sort")

    def _clean_counter(self, fields: Mapping[str, Any], current: Mapping[str, Any] | None) -> dict[str, Any]:
        _only(fields, self.COUNTER_FIELDS)
        merged = {**(current or {}), **fields}
        service_ids = clean_id_list(merged.get("service_ids", []), "service_ids", L_SERVICES)
        if not service_ids:
            raise _refuse("missing_service_ids", "service_ids",
                          "Pilih minimal satu layanan untuk loket ini. (Choose at least one service.)")
        return {
            "name": clean_text(merged.get("name"), "name", L_COUNTER_NAME, max_len=40),
            "zone": clean_zone(merged.get("zone", "")),
            "service_ids": sorted(service_ids),
            "sort": clean_int(merged.get("sort", 0), "sort", L_SORT, 0, MAX_SORT, optional=True) or 0,
        }

    def counters(self, *, include_inactive: bool = True) -> list[dict[str, Any]]:
        with self.store.read() as db:
            links: dict[int, list[int]] = {}
            for counter_id, service_id in db.conn.execute(
                "SELECT counter_id, service_id FROM counter_services ORDER BY service_id"
            ):
                links.setdefault(counter_id, []).append(service_id)
            rows = db.conn.execute(
                "SELECT * FROM counters WHERE (? OR active = 1) ORDER BY sort, id", (include_inactive,)
            ).fetchall()
            return [{**dict(r), "service_ids": links.get(r["id"], [])} for r in rows]

    def counter(self, counter_id: int) -> dict[str, Any]:
        with self.store.read() as db:
            return self._counter(db, counter_id)

    def _counter(self, db: sqlite_utils.Database, counter_id: Any) -> dict[str, Any]:
        row = None
        if isinstance(counter_id, int) and not isinstance(counter_id, bool):
            row = self._row(db, "SELECT * FROM counters WHERE id = ?", (counter_id,))
        if row is None:
            raise NotFound("counter_not_found", "Loket tidak ditemukan. (Counter not found.)", field="counter_id")
        row["service_ids"] = [r[0] for r in db.conn.execute(
            "SELECT service_id FROM counter_services WHERE counter_id = ? ORDER BY service_id", (counter_id,))]
        return row

    def _check_counter(self, db: sqlite_utils.Database, clean: Mapping[str, Any], own_id: int | None) -> None:
        if db.conn.execute(
            "SELECT 1 FROM counters WHERE lower(name) = lower(?) AND id IS NOT ?", (clean["name"], own_id)
        ).fetchone():
            raise _refuse("counter_name_taken", "name",
                          f"Nama loket {clean['name']} sudah dipakai. (Counter name already in use.)", RuleError)
        ids = clean["service_ids"]
        found = {r[0] for r in db.conn.execute(
            f"SELECT id FROM services WHERE id IN ({','.join('?' * len(ids))})", ids)}  # noqa: S608 - placeholders
        missing = [i for i in ids if i not in found]
        if missing:
            raise _refuse("service_not_found", "service_ids",
                          f"Layanan {missing[0]} tidak ditemukan. (Service not found.)", NotFound)

    def _set_counter_services(self, db: sqlite_utils.Database, counter_id: int, ids: list[int]) -> None:
        db.conn.execute("DELETE FROM counter_services WHERE counter_id = ?", (counter_id,))
        db.conn.executemany("INSERT INTO counter_services (counter_id, service_id) VALUES (?, ?)",
                            [(counter_id, i) for i in ids])

    def create_counter(self, actor: Actor, fields: Mapping[str, Any]) -> Change:
        clean = self._clean_counter(fields, None)
        with self.store.write() as db:
            self._check_counter(db, clean, None)
            cur = db.conn.execute("INSERT INTO counters (name, zone, sort) VALUES (?, ?, ?)",
                                  (clean["name"], clean["zone"], clean["sort"]))
            counter_id = int(cur.lastrowid or 0)
            self._set_counter_services(db, counter_id, clean["service_ids"])
            self._audit(db, actor, "counter.created", {"counter_id": counter_id, **clean})
        return Change("counter", counter_id, "counter.created", frozenset({"counters"}), data=clean)

    def update_counter(self, actor: Actor, counter_id: int, fields: Mapping[str, Any]) -> Change:
        with self.store.write() as db:
            current = self._counter(db, counter_id)
            clean = self._clean_counter(fields, current)
            changes = _diff(current, clean)
            if not changes:
                return Change("counter", counter_id, None)
            self._check_counter(db, clean, counter_id)
            db.conn.execute("UPDATE counters SET name = ?, zone = ?, sort = ? WHERE id = ?",
                            (clean["name"], clean["zone"], clean["sort"], counter_id))
            self._set_counter_services(db, counter_id, clean["service_ids"])
            self._audit(db, actor, "counter.updated", {"counter_id": counter_id, "changes": changes})
        return Change("counter", counter_id, "counter.updated", frozenset({"counters", "services"}), changes)

    def set_counter_active(self, actor: Actor, counter_id: int, active: bool) -> Change:
        """Retire or restore a counter.  A counter still holding a ticket cannot be retired."""
        with self.store.write() as db:
            current = self._counter(db, counter_id)
            if bool(current["active"]) == active:
                return Change("counter", counter_id, None)
            if not active and current["current_ticket_id"] is not None:
                raise _refuse("counter_busy", "counter_id",
                              "Loket ini masih melayani sebuah nomor; selesaikan dulu. "
                              "(The counter still holds a ticket; finish it first.)", RuleError)
            if active:
                db.conn.execute("UPDATE counters SET active = 1, status = 'open', pause_reason = NULL WHERE id = ?",
                                (counter_id,))
            else:
                db.conn.execute(
                    "UPDATE counters SET active = 0, status = 'paused', pause_reason = 'nonaktif', user_id = NULL "
                    "WHERE id = ?", (counter_id,))
                if _has_table(db, "counter_sessions"):
                    db.conn.execute("DELETE FROM counter_sessions WHERE counter_id = ?", (counter_id,))
            action = "counter.activated" if active else "counter.deactivated"
            details = {"counter_id": counter_id, "name": current["name"]}
            self._audit(db, actor, action, details)
        return Change("counter", counter_id, action, frozenset({"counters", "services"}), data=details)

    # -------------------------------------------------------------------- staff

    def users(self) -> list[dict[str, Any]]:
        with self.store.read() as db:
            return [dict(r) for r in db.conn.execute(
                "SELECT u.id, u.username, u.display_name, u.role, u.tenant_id, u.active, u.failed_logins, "
                "u.locked_until, u.created_at, t.name_id AS tenant_name FROM users u "
                "LEFT JOIN tenants t ON t.id = u.tenant_id ORDER BY u.active DESC, u.username")]

    def user(self, user_id: int) -> dict[str, Any]:
        with self.store.read() as db:
            return self._user(db, user_id)

    def _user(self, db: sqlite_utils.Database, user_id: Any) -> dict[str, Any]:
        row = None
        if isinstance(user_id, int) and not isinstance(user_id, bool):
            row = self._row(db, "SELECT id, username, display_name, role, tenant_id, active, failed_logins, "
                                "locked_until, created_at FROM users WHERE id = ?", (user_id,))
        if row is None:
            raise NotFound("user_not_found", "Akun tidak ditemukan. (Account not found.)", field="user_id")
        return row

    def _clean_user_tenant(self, db: sqlite_utils.Database, role: str, tenant_id: Any) -> int | None:
        """A counter clerk may belong to one agency (then sees only its counters); others to none."""
        tenant = clean_int(tenant_id, "tenant_id", L_TENANT, 1, 2**62, optional=True)
        if tenant is None:
            return None
        if role != "counter":
            raise _refuse("tenant_not_for_role", "tenant_id",
                          "Hanya petugas loket yang dapat dibatasi ke satu instansi. "
                          "(Only counter clerks can be limited to one agency.)")
        self._tenant(db, tenant)
        return tenant

    @staticmethod
    def _clean_role(role: Any) -> str:
        if role not in auth.USER_ROLES:
            raise _refuse("invalid_role", "role", "Pilih peran: admin, supervisor atau petugas loket. "
                                                  "(Choose a role: admin, supervisor or counter clerk.)")
        return role

    @staticmethod
    def _clean_password(password: Any, field_name: str = "password") -> str:
        if not isinstance(password, str) or len(password) < auth.MIN_PASSWORD:
            raise _refuse("weak_password", field_name,
                          f"Kata sandi minimal {auth.MIN_PASSWORD} karakter. "
                          f"(The password needs at least {auth.MIN_PASSWORD} characters.)")
        if len(password) > MAX_PASSWORD:
            raise _refuse("invalid_password", field_name,
                          f"Kata sandi maksimal {MAX_PASSWORD} karakter. (At most {MAX_PASSWORD} characters.)")
        if password.strip() != password or any(unicodedata.category(c) == "Cc" for c in password):
            raise _refuse("invalid_password", field_name,
                          "Kata sandi tidak boleh diawali/diakhiri spasi atau berisi karakter kendali. "
                          "(No leading or trailing spaces or control characters.)")
        return password

    def create_user(self, actor: Actor, fields: Mapping[str, Any]) -> Change:
        _only(fields, ("username", "password", "role", "display_name", "tenant_id"))
        username = fields.get("username")
        username = username.strip().lower() if isinstance(username, str) else ""
        if not auth.USERNAME_RE.match(username):
            raise _refuse("invalid_username", "username",
                          "Nama pengguna: 3–32 huruf kecil, angka, titik, garis bawah atau tanda hubung. "
                          "(Username: 3–32 lower-case letters, digits, dots, underscores or hyphens.)")
        role = self._clean_role(fields.get("role"))
        password = self._clean_password(fields.get("password"))
        display_name = clean_text(fields.get("display_name"), "display_name", L_DISPLAY_NAME, required=False)
        with self.store.read() as db:
            tenant_id = self._clean_user_tenant(db, role, fields.get("tenant_id"))
            if db.conn.execute("SELECT 1 FROM users WHERE username = ?", (username,)).fetchone():
                raise _refuse("user_exists", "username",
                              f"Nama pengguna {username} sudah dipakai. (Username already taken.)", RuleError)
        try:
            user_id = auth.create_user(self.store, username, password, role, display_name=display_name,
                                       tenant_id=tenant_id, actor=actor.label, device=actor.device)
        except RuleError as exc:  # a race with another admin: same message, same field
            raise _refuse(exc.code, "username", exc.message, type(exc)) from None
        data = {"username": username, "role": role, "display_name": display_name or username, "tenant_id": tenant_id}
        return Change("user", user_id, "user.created", frozenset({"users"}), data=data)

    def _admins_left(self, db: sqlite_utils.Database, excluding: int) -> int:
        return db.conn.execute(
            "SELECT COUNT(*) FROM users WHERE role = 'admin' AND active = 1 AND id != ?", (excluding,)
        ).fetchone()[0]

    def update_user(self, actor: Actor, user_id: int, fields: Mapping[str, Any]) -> Change:
        _only(fields, ("role", "display_name", "tenant_id"))
        with self.store.write() as db:
            current = self._user(db, user_id)
            role = self._clean_role(fields.get("role", current["role"]))
            new = {
                "role": role,
                "display_name": clean_text(fields.get("display_name", current["display_name"]), "display_name",
                                           L_DISPLAY_NAME, required=False) or current["username"],
                "tenant_id": self._clean_user_tenant(db, role, fields.get("tenant_id", current["tenant_id"])
                                                     if role == "counter" else None),
            }
            changes = _diff(current, new)
            if not changes:
                return Change("user", user_id, None)
            if "role" in changes and current["role"] == "admin":
                if actor.user_id == user_id:
                    raise _refuse("own_role", "role", "Anda tidak dapat mengubah peran akun Anda sendiri. "
                                                      "(You cannot change your own role.)", RuleError)
                if current["active"] and self._admins_left(db, user_id) == 0:
                    raise _refuse("last_admin", "role", "Ini admin aktif terakhir; buat admin lain dulu. "
                                                        "(This is the last active admin.)", RuleError)
            db.conn.execute("UPDATE users SET role = ?, display_name = ?, tenant_id = ? WHERE id = ?",
                            (new["role"], new["display_name"], new["tenant_id"], user_id))
            self._audit(db, actor, "user.updated", {"user_id": user_id, "username": current["username"],
                                                    "changes": changes})
        return Change("user", user_id, "user.updated", frozenset({"users"}), changes)

    def reset_password(self, actor: Actor, user_id: int, password: Any) -> Change:
        """Set a new password (the admin tells it to the person) and lift a lock-out.

        Every session of that account opened before ends at its next request
        (its ``session_epoch`` moves on; see :func:`antre.auth.session_user`).
        """
        password = self._clean_password(password)
        digest = generate_password_hash(password, method="scrypt")
        with self.store.write() as db:
            current = self._user(db, user_id)
            db.conn.execute("UPDATE users SET password_hash = ?, failed_logins = 0, locked_until = NULL, "
                            "session_epoch = session_epoch + 1 WHERE id = ?", (digest, user_id))
            self._audit(db, actor, "user.password_reset", {"user_id": user_id, "username": current["username"]})
        return Change("user", user_id, "user.password_reset", frozenset({"users"}))

    def set_user_active(self, actor: Actor, user_id: int, active: bool) -> Change:
        """Deactivate an account (its sessions end at their next request) or restore it."""
        with self.store.write() as db:
            current = self._user(db, user_id)
            if bool(current["active"]) == active:
                return Change("user", user_id, None)
            if not active:
                if actor.user_id == user_id:
                    raise _refuse("own_account", "user_id", "Anda tidak dapat menonaktifkan akun Anda sendiri. "
                                                            "(You cannot deactivate your own account.)", RuleError)
                if current["role"] == "admin" and self._admins_left(db, user_id) == 0:
                    raise _refuse("last_admin", "user_id", "Ini admin aktif terakhir; buat admin lain dulu. "
                                                           "(This is the last active admin.)", RuleError)
                db.conn.execute("UPDATE counters SET user_id = NULL WHERE user_id = ?", (user_id,))
                if _has_table(db, "counter_sessions"):
                    db.conn.execute("DELETE FROM counter_sessions WHERE user_id = ?", (user_id,))
            db.conn.execute("UPDATE users SET active = ? WHERE id = ?", (int(active), user_id))
            action = "user.activated" if active else "user.deactivated"
            self._audit(db, actor, action, {"user_id": user_id, "username": current["username"]})
        return Change("user", user_id, action, frozenset({"users", "counters"}))

    def unlock_user(self, actor: Actor, user_id: int) -> Change:
        """Lift a lock-out after too many wrong passwords."""
        with self.store.write() as db:
            current = self._user(db, user_id)
            if not current["failed_logins"] and not current["locked_until"]:
                return Change("user", user_id, None)
            db.conn.execute("UPDATE users SET failed_logins = 0, locked_until = NULL WHERE id = ?", (user_id,))
            if _has_table(db, "login_failures"):
                db.conn.execute("DELETE FROM login_failures WHERE username = ?", (current["username"],))
            self._audit(db, actor, "user.unlocked", {"user_id": user_id, "username": current["username"]})
        return Change("user", user_id, "user.unlocked", frozenset({"users"}))

    # ------------------------------------------------------------------ devices

    def tokens(self) -> list[dict[str, Any]]:
        return auth.list_tokens(self.store)

    def create_token(self, actor: Actor, role: Any, name: Any) -> tuple[Change, str]:
        """A new bearer token (shown once to the admin).  Returns the change and the token."""
        if role not in auth.TOKEN_ROLES:
            raise _refuse("invalid_role", "role", "Pilih peran token: kiosk, display, counter, feed atau admin. "
                                                  "(Choose the token's role.)")
        name = clean_text(name, "name", L_DEVICE_NAME)
        with self.store.write() as db:
            token, token_id = auth.insert_token(self.store, db, role, name, actor=actor.label, device=actor.device)
        return Change("token", token_id, "token.created", frozenset({"devices"}),
                      data={"role": role, "name": name}), token

    def revoke_token(self, actor: Actor, token_id: Any) -> Change:
        """Revoke a token: bearer requests, paired browsers and sockets using it stop at once."""
        with self.store.read() as db:
            row = None
            if isinstance(token_id, int) and not isinstance(token_id, bool):
                row = self._row(db, "SELECT id, name, role, revoked_at FROM tokens WHERE id = ?", (token_id,))
        if row is None:
            raise NotFound("token_not_found", "Token tidak ditemukan. (Token not found.)", field="token_id")
        if row["revoked_at"]:
            return Change("token", token_id, None)
        auth.revoke_token(self.store, token_id, actor=actor.label, device=actor.device)
        return Change("token", token_id, "token.revoked", frozenset({"devices"}),
                      data={"name": row["name"], "role": row["role"]})

    # -------------------------------------------------------- pairing by code

    @staticmethod
    def _pepper(db: sqlite_utils.Database) -> bytes:
        """The HMAC key of pairing codes, made on first use (inside the caller's transaction)."""
        row = db.conn.execute("SELECT value FROM meta WHERE key = 'pairing_pepper'").fetchone()
        if row is not None:
            return str(row[0]).encode()
        value = secrets.token_hex(32)
        db.conn.execute("INSERT INTO meta (key, value) VALUES ('pairing_pepper', ?)", (value,))
        return value.encode()

    def _code_hash(self, pepper: bytes, code: str) -> str:
        return hmac.new(pepper, code.encode(), hashlib.sha256).hexdigest()

    def start_pairing(self, roles: Any, client: str = "") -> dict[str, Any]:
        """A new short code for an unpaired device page (called without credentials).

        Returns ``{"code", "claim", "expires_at"}``: the page shows ``code``; its
        browser keeps ``claim`` (in its session) to collect the pairing.  Only
        HMACs of both are stored.
        """
        if (not isinstance(roles, list | tuple) or not roles
                or any(r not in PAIRABLE_ROLES for r in roles) or len(set(roles)) != len(roles)):
            raise Invalid("invalid_roles", "Halaman ini tidak dapat dipasangkan dengan kode. "
                                           "(This page cannot be paired by code.)")
        now = self._utc_now()
        expires = now + timedelta(seconds=PAIR_CODE_SECONDS)
        claim = secrets.token_urlsafe(24)
        with self.store.write() as db:
            pepper = self._pepper(db)
            db.conn.execute("DELETE FROM pairing_codes WHERE expires_at < ?", ((now - timedelta(days=1)).isoformat(),))
            open_codes = db.conn.execute(
                "SELECT COUNT(*) FROM pairing_codes WHERE expires_at > ? AND token_id IS NULL", (now.isoformat(),)
            ).fetchone()[0]
            if open_codes >= MAX_OPEN_PAIR_CODES:
                raise RuleError("too_many_codes", "Terlalu banyak kode pemasangan yang terbuka; coba lagi beberapa "
                                                  "menit lagi. (Too many open pairing codes; try again later.)")
            for _attempt in range(50):
                code = f"{secrets.randbelow(10 ** PAIR_CODE_DIGITS):0{PAIR_CODE_DIGITS}d}"
                code_hash = self._code_hash(pepper, code)
                if not db.conn.execute(
                    "SELECT 1 FROM pairing_codes WHERE code_hash = ? AND expires_at > ?", (code_hash, now.isoformat())
                ).fetchone():
                    break
            else:  # pragma: no cover - 50 collisions among at most 50 open codes of a million
                raise RuleError("too_many_codes", "Coba lagi. (Try again.)")
            db.conn.execute(
                "INSERT INTO pairing_codes (code_hash, claim_hash, roles, client, created_at, expires_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (code_hash, auth.hash_token(claim), json.dumps(list(roles)), client[:64], now.isoformat(),
                 expires.isoformat()),
            )
        return {"code": code, "claim": claim, "expires_at": iso(self.clock.local(expires))}

    def collect_pairing(self, claim: Any) -> dict[str, Any]:
        """What became of a device's code: ``waiting``, ``paired`` (once, with ``token_id``), ``expired``
        or ``unknown``."""
        if not isinstance(claim, str) or not claim or len(claim) > 100:
            return {"state": "unknown"}
        now = self._utc_now().isoformat()
        with self.store.write() as db:
            row = self._row(db, "SELECT * FROM pairing_codes WHERE claim_hash = ?", (auth.hash_token(claim),))
            if row is None or row["claimed_at"]:
                return {"state": "unknown"}
            if row["token_id"] is not None:
                db.conn.execute("UPDATE pairing_codes SET claimed_at = ? WHERE id = ?", (now, row["id"]))
                token = db.conn.execute("SELECT id, role, name FROM tokens WHERE id = ? AND revoked_at IS NULL",
                                        (row["token_id"],)).fetchone()
                if token is None:
                    return {"state": "unknown"}
                return {"state": "paired", "token_id": token["id"], "role": token["role"], "name": token["name"]}
            if row["expires_at"] <= now:
                return {"state": "expired"}
            return {"state": "waiting", "expires_at": iso(self.clock.local(datetime.fromisoformat(row["expires_at"])))}

    def pair_with_code(self, actor: Actor, code: Any, role: Any, name: Any) -> Change:
        """The admin typed the code shown on a device: make its token and hand it to that browser."""
        code = re.sub(r"[\s-]", "", code) if isinstance(code, str) else ""
        if not re.fullmatch(rf"\d{{{PAIR_CODE_DIGITS}}}", code):
            raise _refuse("invalid_code", "code", f"Kode pemasangan terdiri dari {PAIR_CODE_DIGITS} angka. "
                                                  f"(The pairing code has {PAIR_CODE_DIGITS} digits.)")
        if role not in PAIRABLE_ROLES:
            raise _refuse("invalid_role", "role", "Pilih peran perangkat: kiosk atau display. "
                                                  "(Choose the device role: kiosk or display.)")
        name = clean_text(name, "name", L_DEVICE_NAME)
        now = self._utc_now().isoformat()
        with self.store.write() as db:
            row = self._row(
                db, "SELECT * FROM pairing_codes WHERE code_hash = ? AND expires_at > ? AND token_id IS NULL",
                (self._code_hash(self._pepper(db), code), now),
            )
            if row is None:
                raise _refuse("unknown_code", "code",
                              "Kode tidak dikenal atau sudah kedaluwarsa (berlaku 10 menit). Periksa kode pada layar "
                              "perangkat; muat ulang halaman perangkat untuk kode baru. "
                              "(Unknown or expired code; reload the device page for a new one.)", NotFound)
            roles = json.loads(row["roles"])
            if role not in roles:
                raise _refuse("role_mismatch", "role",
                              f"Kode ini berasal dari halaman {' / '.join(roles)}; pilih peran itu. "
                              f"(This code comes from a {' / '.join(roles)} page; choose that role.)", RuleError)
            _token, token_id = auth.insert_token(self.store, db, role, name, actor=actor.label, device=actor.device)
            db.conn.execute("UPDATE pairing_codes SET token_id = ?, paired_at = ?, paired_by = ? WHERE id = ?",
                            (token_id, now, actor.label, row["id"]))
            details = {"token_id": token_id, "role": role, "name": name, "device_address": row["client"]}
            self._audit(db, actor, "device.paired", details)
        return Change("token", token_id, "device.paired", frozenset({"devices"}), data=details)

    # ----------------------------------------------------------------- settings

    def settings(self) -> dict[str, Any]:
        return read_settings(self.store)

    def _clean_setting(self, db: sqlite_utils.Database, key: str, value: Any) -> Any:
        if key == "mpp_name":
            return clean_text(value, key, ("Nama MPP", "MPP name"), max_len=120, min_len=3)
        if key == "running_text":
            return clean_text(value, key, ("Teks berjalan", "Running text"), max_len=1000, required=False)
        if key == "kiosk_idle_seconds":
            return clean_int(value, key, ("Waktu diam kiosk (detik)", "Kiosk idle time (seconds)"), 10, 600)
        if key == "ticket_footer":
            text = clean_text(value, key, ("Catatan kaki tiket", "Ticket footer"), max_len=240, required=False,
                              multiline=True)
            lines = [line.strip() for line in text.split("\n")]
            if len(lines) > 4 or any(len(line) > 48 for line in lines):
                raise _refuse("invalid_ticket_footer", key,
                              "Catatan kaki tiket: maksimal 4 baris, masing-masing 48 karakter. "
                              "(Ticket footer: at most 4 lines of 48 characters.)")
            return "\n".join(lines)
        if key == "voice":
            return clean_voice(value)
        if key in OUTPUT_SETTINGS:
            return clean_output_setting(key, value)
        if key == "printers":
            return self._clean_printers(db, value)
        raise Invalid("unknown_setting", f"Pengaturan tidak dikenal: {key}. (Unknown setting.)", field=key)

    def _clean_printers(self, db: sqlite_utils.Database, value: Any) -> dict[str, str]:
        if not isinstance(value, Mapping):
            raise _refuse("invalid_printers", "printers", "Daftar printer tidak sah. (Invalid printer list.)")
        kiosks = {str(r[0]): r[1] for r in db.conn.execute(
            "SELECT id, name FROM tokens WHERE role = 'kiosk' AND revoked_at IS NULL")}
        out: dict[str, str] = {}
        for key, uri in value.items():
            key = str(key)
            field_name = f"printer_{key}"
            if key not in kiosks:
                raise _refuse("kiosk_not_found", field_name, "Kiosk tidak ditemukan. (Kiosk not found.)", NotFound)
            uri = uri.strip() if isinstance(uri, str) else ""
            if not uri:
                continue  # the server's default printer
            problem = printer_uri_problem(uri)
            if problem:
                raise _refuse("invalid_printer", field_name,
                              f"Printer untuk {kiosks[key]} tidak sah: {problem} "
                              "(Contoh: tcp://192.168.1.50:9100, usb:04b8:0e15, serial:/dev/ttyUSB0, cups:NAMA, "
                              "file:/folder, virtual, agent.)")
            out[key] = uri
        return dict(sorted(out.items(), key=lambda kv: int(kv[0])))

    def update_settings(self, actor: Actor, values: Mapping[str, Any]) -> Change:
        """Change some settings; unchanged keys are not written nor audited."""
        with self.store.write() as db:
            clean = {key: self._clean_setting(db, key, value) for key, value in values.items()}
            changes: dict[str, Any] = {}
            for key, value in clean.items():
                old = self.store.get_setting(db, key, SETTING_DEFAULTS.get(key))
                if old != value:
                    changes[key] = [old, value]
                    self.store.set_setting(db, key, value)
            if not changes:
                return Change("settings", None, None)
            self._audit(db, actor, "settings.updated", {"changes": changes})
        return Change("settings", None, "settings.updated", frozenset({"settings"}), changes)

    # -------------------------------------------------------------------- audit

    def audit_actions(self) -> list[str]:
        with self.store.read() as db:
            return [r[0] for r in db.conn.execute("SELECT DISTINCT action FROM audit ORDER BY action")]

    def audit_entries(self, *, action: str = "", actor: str = "", day_from: str = "", day_to: str = "",
                      before: int | None = None, limit: int = 50) -> dict[str, Any]:
        """A page of the audit log, newest first, with filters.

        ``day_from``/``day_to`` are local dates of the MPP (inclusive); ``actor``
        matches part of the actor or the device; ``before`` pages back by id.
        Returns ``{"rows", "next_before"}``.
        """
        where, args = ["1 = 1"], []
        if action:
            where.append("action = ?")
            args.append(action[:100])
        if actor:
            pattern = "%" + actor[:100].replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            where.append("(actor LIKE ? ESCAPE '\\' OR device LIKE ? ESCAPE '\\')")
            args += [pattern, pattern]
        start = self._day(day_from, "day_from", ("Tanggal awal", "From date"))
        end = self._day(day_to, "day_to", ("Tanggal akhir", "To date"))
        if start and end and end < start:
            raise _refuse("invalid_range", "day_to", "Tanggal akhir sebelum tanggal awal. (The end date is before "
                                                     "the start date.)")
        if start:
            where.append("at >= ?")
            args.append(self.clock.day_bounds(start)[0].astimezone(UTC).isoformat())
        if end:
            where.append("at < ?")
            args.append(self.clock.day_bounds(end)[1].astimezone(UTC).isoformat())
        if before is not None:
            where.append("id < ?")
            args.append(before)
        limit = max(1, min(limit, 500))
        with self.store.read() as db:
            rows = db.conn.execute(
                f"SELECT id, at, actor, device, action, ticket_id, details FROM audit WHERE {' AND '.join(where)} "  # noqa: S608
                "ORDER BY id DESC LIMIT ?", (*args, limit + 1),
            ).fetchall()
        out = []
        for r in rows[:limit]:
            entry = dict(r)
            entry["details"] = json.loads(entry["details"] or "{}")
            entry["at_local"] = iso(self.clock.local(datetime.fromisoformat(entry["at"])))
            out.append(entry)
        return {"rows": out, "next_before": out[-1]["id"] if len(rows) > limit else None}

    @staticmethod
    def _day(text: Any, field_name: str, label: tuple[str, str]) -> date | None:
        if not text:
            return None
        try:
            return date.fromisoformat(str(text))
        except ValueError:
            raise _refuse("invalid_date", field_name, f"{label[0]} tidak sah; gunakan TTTT-BB-HH. "
                                                      f"({label[1]} is invalid; use YYYY-MM-DD.)") from None

    def verify_audit(self, actor: Actor) -> dict[str, Any]:
        """Recompute the audit chain (:meth:`Store.verify_audit`); the check itself is audited."""
        check = self.store.verify_audit()
        result = {"ok": check.ok, "rows": check.rows, "first_bad_id": check.first_bad_id, "reason": check.reason}
        with self.store.write() as db:
            self._audit(db, actor, "audit.verified", result)
        return result


# ------------------------------------------------------------- shared helpers


def refuse_inactive_counter(_db: sqlite_utils.Database, counter: Mapping[str, Any], _actor: Actor) -> None:
    """A queue counter guard (``Queue.counter_guards``): a retired counter takes no action."""
    if not counter.get("active", 1):
        raise RuleError("counter_inactive", f"{counter.get('name', 'Loket')} sudah dinonaktifkan oleh admin. "
                                            "(This counter was deactivated by the admin.)")


def clean_voice(value: Any) -> dict[str, Any]:
    """The ``voice`` setting: how calls are spoken (see :data:`VOICE_DEFAULTS`)."""
    if not isinstance(value, Mapping):
        raise _refuse("invalid_voice", "voice", "Pengaturan suara tidak sah. (Invalid voice settings.)")
    _only(value, VOICE_DEFAULTS)
    merged = {**VOICE_DEFAULTS, **value}
    if merged["number_style"] not in NUMBER_STYLES:
        raise _refuse("invalid_number_style", "number_style",
                      "Cara membaca nomor: utuh atau per angka. (Number reading: whole or digit by digit.)")
    if merged["zero_word"] not in ZERO_WORDS:
        raise _refuse("invalid_zero_word", "zero_word", "Angka 0 dibaca 'nol' atau 'kosong'. (0 is read 'nol' or "
                                                        "'kosong'.)")
    repeats = clean_int(merged["repeats"], "repeats", ("Jumlah pengulangan", "Repeats"), 1, MAX_REPEATS)
    chime = clean_bool(merged["chime"])
    templates = {}
    for key, label in (("template_id", ("Kalimat panggilan (Indonesia)", "Call sentence (Indonesian)")),
                       ("template_en", ("Kalimat panggilan (Inggris)", "Call sentence (English)"))):
        text = clean_text(merged[key], key, label, max_len=200)
        problem = template_problem(text)
        if problem:
            raise _refuse("invalid_template", key,
                          f"{label[0]} harus memuat {{number}} dan {{counter}}, tanpa kurung "
                          f"kurawal lain. ({label[1]} must contain {{number}} and {{counter}}: {problem}.)")
        templates[key] = text
    return {"number_style": merged["number_style"], "zero_word": merged["zero_word"], **templates,
            "repeats": repeats, "chime": chime}


def clean_output_setting(key: str, value: Any) -> Any:
    """A speech output setting, checked by the display part's own rule."""
    if isinstance(value, str):
        value = value.strip()
    try:
        from antre.announce import check_output_setting
    except ImportError:  # pragma: no cover - the display part is always shipped
        return value
    try:
        return check_output_setting(key, value)
    except ValueError:
        raise _refuse(f"invalid_{key}", key, OUTPUT_SETTINGS[key]) from None


def template_problem(template: str) -> str | None:
    """Why a call template is unusable (the speech part's own check), or None."""
    try:
        from speech.sentence import validate_template
    except ImportError:  # pragma: no cover - the speech part is always shipped
        return None
    try:
        validate_template(template)
    except ValueError as exc:
        return str(exc)
    return None


def printer_uri_problem(uri: str) -> str | None:
    """Why a printer URI cannot name a printer (the printing part's own check), or None."""
    if uri == "agent":
        return None
    try:
        from printing.backends import open_printer
    except ImportError:  # pragma: no cover - the printing part is always shipped
        return None
    try:
        open_printer(uri)  # checks the URI only; the device is opened lazily
    except ValueError as exc:
        return str(exc)
    except Exception as exc:  # noqa: BLE001 - any backend refusal is a bad URI here
        return str(exc) or type(exc).__name__
    return None


def read_settings(store: Store, db: sqlite_utils.Database | None = None) -> dict[str, Any]:
    """Every setting, with defaults for those never set (``voice`` merged key by key)."""
    def read(conn_db: sqlite_utils.Database) -> dict[str, Any]:
        out = {key: store.get_setting(conn_db, key, default) for key, default in SETTING_DEFAULTS.items()}
        voice = out["voice"] if isinstance(out["voice"], dict) else {}
        out["voice"] = {**VOICE_DEFAULTS, **{k: v for k, v in voice.items() if k in VOICE_DEFAULTS}}
        return out

    if db is not None:
        return read(db)
    with store.read() as own:
        return read(own)


def public_settings(store: Store) -> dict[str, Any]:
    """The settings kiosks and displays use (sent with ``config:changed``)."""
    settings = read_settings(store)
    return {key: settings[key] for key in PUBLIC_SETTINGS}


def _has_table(db: sqlite_utils.Database, name: str) -> bool:
    try:
        return db.conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)).fetchone() \
            is not None
    except sqlite3.Error:  # pragma: no cover
        return False
