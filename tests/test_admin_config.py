"""antre.config: every validator, every audited change, and "a refused input changes nothing".

Each refusal is checked against a full dump of the database taken before and
after: not a row (audit log included) may differ.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from antre import auth
from antre.config import (
    MAX_OPEN_PAIR_CODES,
    PAIR_CODE_SECONDS,
    SETTING_DEFAULTS,
    Config,
    clean_hours,
    clean_icon,
    clean_id_list,
    clean_int,
    clean_prefix,
    clean_priority_rule,
    clean_tenant_code,
    clean_text,
    clean_voice,
    clean_zone,
    printer_uri_problem,
    public_settings,
    read_settings,
)
from antre.queue import Actor, Queue
from antre.rules import ALWAYS_OPEN, RuleError
from antre.store import Store

ADMIN = Actor("boss", "admin", device="ip:10.0.0.9", user_id=1)
LABEL = ("Isian", "Field")


def dump(store: Store) -> str:
    """Everything in the database (a fresh connection sees only what was committed)."""
    conn = sqlite3.connect(store.path)
    try:
        return "\n".join(conn.iterdump())
    finally:
        conn.close()


def refused(store: Store, action: Callable[[], Any], code: str, field: str | None = None) -> RuleError:
    before = dump(store)
    with pytest.raises(RuleError) as caught:
        action()
    assert caught.value.code == code, caught.value.message
    if field is not None:
        assert caught.value.details.get("field") == field
    assert caught.value.message.strip()
    assert dump(store) == before, "a refused change wrote something"
    return caught.value


def audit_rows(store: Store, action: str) -> list[dict[str, Any]]:
    with store.read() as db:
        return [dict(r) for r in db.conn.execute("SELECT * FROM audit WHERE action = ? ORDER BY id", (action,))]


@pytest.fixture
def cfg(demo_store: Store, clock: Any) -> Config:
    auth.create_user(demo_store, "boss", "correct horse battery", "admin")
    return Config(demo_store, clock)


def service_fields(**over: Any) -> dict[str, Any]:
    fields = {"tenant_id": 1, "code": "Q", "name_id": "Surat Pindah", "name_en": "", "hours": ALWAYS_OPEN,
              "quota_walkin": "", "quota_online": "", "standard_minutes": "10", "priority_rule": "strict"}
    fields.update(over)
    return fields


# ------------------------------------------------------------------ validators


@pytest.mark.parametrize(("raw", "clean"), [("a", "A"), (" kia ", "KIA"), ("PBB", "PBB")])
def test_prefix_accepts_one_to_three_letters(raw: str, clean: str) -> None:
    assert clean_prefix(raw) == clean


@pytest.mark.parametrize("raw", ["", None, "A1", "ABCD", "Ä", "A-B", 7])
def test_prefix_refuses_the_rest(raw: Any) -> None:
    with pytest.raises(RuleError) as caught:
        clean_prefix(raw)
    assert caught.value.details["field"] == "code"


def test_tenant_code_icon_zone() -> None:
    assert clean_tenant_code(" dukcapil ") == "DUKCAPIL"
    for bad in ("D", "DUK CAPIL", "X" * 17, ""):
        with pytest.raises(RuleError):
            clean_tenant_code(bad)
    assert clean_icon("ID-Card") == "id-card"
    with pytest.raises(RuleError):
        clean_icon("<svg>")
    assert clean_zone(" Lantai 2 ") == "lantai-2"
    assert clean_zone("") == ""
    for bad in ("lt/2", "-lobi", "x" * 33):
        with pytest.raises(RuleError):
            clean_zone(bad)


def test_int_accepts_form_digits_and_refuses_bools_and_ranges() -> None:
    assert clean_int("42", "n", LABEL, 0, 100) == 42
    assert clean_int(" 7 ", "n", LABEL, 0, 100) == 7
    assert clean_int("", "n", LABEL, 0, 100, optional=True) is None
    for bad in (True, "4.5", "1e3", "-1", 101, "abc", 3.0):
        with pytest.raises(RuleError) as caught:
            clean_int(bad, "n", LABEL, 0, 100)
        assert "0–100" in caught.value.message
    with pytest.raises(RuleError) as caught:
        clean_int("", "n", LABEL, 0, 100)
    assert caught.value.code == "missing_n"


def test_text_trims_and_refuses_control_characters_and_lengths() -> None:
    assert clean_text("  Loket   3 ", "name", LABEL) == "Loket 3"
    assert clean_text("a\r\nb", "t", LABEL, multiline=True) == "a\nb"
    for bad, code in (("", "missing_name"), ("x\x00y", "invalid_name"), ("\u202eabc", "invalid_name"),
                      ("x" * 81, "invalid_name"), (5, "invalid_name")):
        with pytest.raises(RuleError) as caught:
            clean_text(bad, "name", LABEL)
        assert caught.value.code == code
    assert clean_text("", "name", LABEL, required=False) == ""


@pytest.mark.parametrize(("raw", "clean"), [("strict", "strict"), ("interleave 3", "interleave 3"),
                                            ("INTERLEAVE:2", "interleave 2"), ("", "strict")])
def test_priority_rule_uses_the_rules_parser(raw: str, clean: str) -> None:
    assert clean_priority_rule(raw) == clean


@pytest.mark.parametrize("raw", ["interleave 0", "interleave 21", "random", "interleave", None])
def test_priority_rule_refusals(raw: Any) -> None:
    with pytest.raises(RuleError) as caught:
        clean_priority_rule(raw)
    assert caught.value.details["field"] == "priority_rule"


def test_hours_fill_every_day_and_refuse_overlaps_and_bad_spans() -> None:
    hours = clean_hours({"mon": [["13:00", "15:00"], ["08:00", "12:00"]], "sun": [["00:00", "24:00"]]})
    assert hours["mon"] == [["08:00", "12:00"], ["13:00", "15:00"]]
    assert hours["tue"] == [] and hours["sun"] == [["00:00", "24:00"]]
    assert clean_hours(json.dumps({"fri": [["08:00", "11:30"]]}))["fri"] == [["08:00", "11:30"]]
    for bad, code in (({"mon": [["08:00", "12:00"], ["11:00", "15:00"]]}, "overlapping_hours"),
                      ({"mon": [["12:00", "08:00"]]}, "invalid_hours"),
                      ({"mon": [["8:00", "12:00"]]}, "invalid_hours"),
                      ({"monday": [["08:00", "12:00"]]}, "invalid_hours"),
                      ({"mon": [["08:00", "24:30"]]}, "invalid_hours"),
                      ("not json", "invalid_hours")):
        with pytest.raises(RuleError) as caught:
            clean_hours(bad)
        assert caught.value.code == code
        assert caught.value.details["field"] == "hours"


def test_id_list() -> None:
    assert clean_id_list(["3", 1, "3"], "service_ids", LABEL) == [3, 1]
    assert clean_id_list("1, 2 4", "service_ids", LABEL) == [1, 2, 4]
    for bad in (["x"], [0], "1;2", {"a": 1}):
        with pytest.raises(RuleError):
            clean_id_list(bad, "service_ids", LABEL)


def test_voice_is_checked_key_by_key_with_the_speech_parts_template_rule() -> None:
    voice = clean_voice({"number_style": "digits", "zero_word": "kosong", "repeats": "2", "chime": "0"})
    assert voice == {**SETTING_DEFAULTS["voice"], "number_style": "digits", "zero_word": "kosong", "repeats": 2,
                     "chime": False}
    cases = [({"number_style": "roman"}, "number_style"), ({"zero_word": "zero"}, "zero_word"),
             ({"repeats": 0}, "repeats"), ({"repeats": 6}, "repeats"),
             ({"template_id": "Nomor {number}"}, "template_id"),
             ({"template_en": "{number} to {counter} {when}"}, "template_en"),
             ({"template_id": "Nomor {number:>3} ke {counter}"}, "template_id"),
             ({"volume": 3}, "volume")]
    for value, field in cases:
        with pytest.raises(RuleError) as caught:
            clean_voice(value)
        assert caught.value.details["field"] == field, value
    with pytest.raises(RuleError):
        clean_voice(["whole"])


def test_printer_uris_are_checked_by_the_printing_part() -> None:
    for good in ("tcp://192.168.1.50:9100", "usb:04b8:0e15", "file:/tmp/tickets", "virtual", "agent"):
        assert printer_uri_problem(good) is None, good
    for bad in ("lpt1", "tcp://", "usb:zz:01", "ftp://printer"):
        assert printer_uri_problem(bad), bad


# -------------------------------------------------------- refusals change nothing


def test_tenant_refusals(cfg: Config) -> None:
    store = cfg.store
    refused(store, lambda: cfg.create_tenant(ADMIN, {"code": "dukcapil", "name_id": "Lagi"}), "tenant_code_taken",
            "code")
    refused(store, lambda: cfg.create_tenant(ADMIN, {"code": "X", "name_id": "Dinas"}), "invalid_tenant_code", "code")
    refused(store, lambda: cfg.create_tenant(ADMIN, {"code": "DINSOS", "name_id": ""}), "missing_name_id", "name_id")
    refused(store, lambda: cfg.create_tenant(ADMIN, {"code": "DINSOS", "name_id": "Dinsos", "owner": "x"}),
            "unknown_field")
    refused(store, lambda: cfg.update_tenant(ADMIN, 2, {"code": "DUKCAPIL"}), "tenant_code_taken", "code")
    refused(store, lambda: cfg.update_tenant(ADMIN, 999, {"name_id": "X Y"}), "tenant_not_found")
    refused(store, lambda: cfg.set_tenant_active(ADMIN, 999, False), "tenant_not_found")


def test_service_refusals(cfg: Config, clock: Any) -> None:
    store = cfg.store
    refused(store, lambda: cfg.create_service(ADMIN, service_fields(code="A")), "prefix_taken", "code")
    refused(store, lambda: cfg.create_service(ADMIN, service_fields(code="Q1")), "invalid_prefix", "code")
    refused(store, lambda: cfg.create_service(ADMIN, service_fields(tenant_id=999)), "tenant_not_found", "tenant_id")
    refused(store, lambda: cfg.create_service(ADMIN, service_fields(quota_walkin="-3")), "invalid_quota_walkin",
            "quota_walkin")
    refused(store, lambda: cfg.create_service(ADMIN, service_fields(standard_minutes="0")),
            "invalid_standard_minutes", "standard_minutes")
    refused(store, lambda: cfg.create_service(ADMIN, service_fields(priority_rule="interleave 0")),
            "invalid_priority_rule", "priority_rule")
    refused(store, lambda: cfg.create_service(ADMIN, service_fields(hours={"mon": [["09:00", "08:00"]]})),
            "invalid_hours", "hours")
    cfg.set_tenant_active(ADMIN, 3, False)
    refused(store, lambda: cfg.create_service(ADMIN, service_fields(tenant_id=3)), "tenant_inactive", "tenant_id")
    refused(store, lambda: cfg.set_service_active(ADMIN, 9, True), "tenant_inactive", "tenant_id")  # E, BPJS
    # A prefix cannot change once numbers were issued with it today.
    Queue(store, clock).issue(1)
    refused(store, lambda: cfg.update_service(ADMIN, 1, {"code": "AA"}), "prefix_in_use_today", "code")
    clock.advance(24 * 3600)
    assert cfg.update_service(ADMIN, 1, {"code": "AA"}).changed


def test_counter_refusals(cfg: Config, clock: Any) -> None:
    store = cfg.store
    refused(store, lambda: cfg.create_counter(ADMIN, {"name": "loket 1", "service_ids": [1]}), "counter_name_taken",
            "name")
    refused(store, lambda: cfg.create_counter(ADMIN, {"name": "Loket 99", "service_ids": []}),
            "missing_service_ids", "service_ids")
    refused(store, lambda: cfg.create_counter(ADMIN, {"name": "Loket 99", "service_ids": [1, 999]}),
            "service_not_found", "service_ids")
    refused(store, lambda: cfg.create_counter(ADMIN, {"name": "Loket 99", "zone": "lt 2/b", "service_ids": [1]}),
            "invalid_zone", "zone")
    queue = Queue(store, clock)
    queue.issue(1)
    queue.call_next(1)
    refused(store, lambda: cfg.set_counter_active(ADMIN, 1, False), "counter_busy")


def test_staff_refusals(cfg: Config) -> None:
    store = cfg.store
    ok = {"username": "sari", "password": "kata-sandi-panjang", "role": "counter"}
    refused(store, lambda: cfg.create_user(ADMIN, {**ok, "password": "pendek"}), "weak_password", "password")
    refused(store, lambda: cfg.create_user(ADMIN, {**ok, "password": " spasi-di-depan "}), "invalid_password",
            "password")
    refused(store, lambda: cfg.create_user(ADMIN, {**ok, "username": "Sa ri"}), "invalid_username", "username")
    refused(store, lambda: cfg.create_user(ADMIN, {**ok, "username": "BOSS"}), "user_exists", "username")
    refused(store, lambda: cfg.create_user(ADMIN, {**ok, "role": "root"}), "invalid_role", "role")
    refused(store, lambda: cfg.create_user(ADMIN, {**ok, "role": "admin", "tenant_id": "1"}), "tenant_not_for_role",
            "tenant_id")
    refused(store, lambda: cfg.create_user(ADMIN, {**ok, "tenant_id": "999"}), "tenant_not_found", "tenant_id")
    # The only admin cannot demote or deactivate themself, nor be left without another admin.
    refused(store, lambda: cfg.update_user(ADMIN, 1, {"role": "supervisor"}), "own_role", "role")
    refused(store, lambda: cfg.set_user_active(ADMIN, 1, False), "own_account")
    other = Actor("root2", "admin", device="ip:10.0.0.8", user_id=999)
    refused(store, lambda: cfg.update_user(other, 1, {"role": "counter"}), "last_admin", "role")
    refused(store, lambda: cfg.set_user_active(other, 1, False), "last_admin")
    refused(store, lambda: cfg.reset_password(ADMIN, 1, "short"), "weak_password", "password")
    refused(store, lambda: cfg.user(404) and None, "user_not_found")


def test_device_refusals(cfg: Config) -> None:
    store = cfg.store
    refused(store, lambda: cfg.create_token(ADMIN, "root", "x"), "invalid_role", "role")
    refused(store, lambda: cfg.create_token(ADMIN, "kiosk", "  "), "missing_name", "name")
    refused(store, lambda: cfg.revoke_token(ADMIN, 404), "token_not_found")
    refused(store, lambda: cfg.pair_with_code(ADMIN, "12a456", "kiosk", "Kiosk"), "invalid_code", "code")
    refused(store, lambda: cfg.pair_with_code(ADMIN, "123456", "feed", "Kiosk"), "invalid_role", "role")
    refused(store, lambda: cfg.pair_with_code(ADMIN, "123456", "kiosk", "Kiosk"), "unknown_code", "code")


def test_settings_refusals_write_no_key_at_all(cfg: Config) -> None:
    store = cfg.store
    good_and_bad = {"running_text": "Selamat datang", "kiosk_idle_seconds": "5"}
    refused(store, lambda: cfg.update_settings(ADMIN, good_and_bad), "invalid_kiosk_idle_seconds",
            "kiosk_idle_seconds")
    refused(store, lambda: cfg.update_settings(ADMIN, {"mpp_name": "MP"}), "invalid_mpp_name", "mpp_name")
    refused(store, lambda: cfg.update_settings(ADMIN, {"ticket_footer": "a\nb\nc\nd\ne"}), "invalid_ticket_footer")
    refused(store, lambda: cfg.update_settings(ADMIN, {"ticket_footer": "x" * 49}), "invalid_ticket_footer")
    refused(store, lambda: cfg.update_settings(ADMIN, {"theme": "dark"}), "unknown_setting", "theme")
    refused(store, lambda: cfg.update_settings(ADMIN, {"voice": {"repeats": 9}}), "invalid_repeats", "repeats")
    refused(store, lambda: cfg.update_settings(ADMIN, {"audio_output": "speaker"}), "invalid_audio_output",
            "audio_output")
    refused(store, lambda: cfg.update_settings(ADMIN, {"speech_backend": "say"}), "invalid_speech_backend",
            "speech_backend")
    refused(store, lambda: cfg.update_settings(ADMIN, {"audio_device": "hw 1"}), "invalid_audio_device",
            "audio_device")
    refused(store, lambda: cfg.update_settings(ADMIN, {"printers": {"404": "virtual"}}), "kiosk_not_found",
            "printer_404")
    _change, _token = cfg.create_token(ADMIN, "kiosk", "Kiosk lobi")
    kiosk_id = next(t["id"] for t in cfg.tokens() if t["role"] == "kiosk")
    refused(store, lambda: cfg.update_settings(ADMIN, {"printers": {str(kiosk_id): "lpt1"}}), "invalid_printer",
            f"printer_{kiosk_id}")


# ---------------------------------------------------------- accepted changes


def test_changes_are_audited_with_who_device_and_what(cfg: Config) -> None:
    change = cfg.create_tenant(ADMIN, {"code": "dinsos", "name_id": "Dinas Sosial", "name_en": ""})
    assert change.changed and change.what == {"tenants"}
    tenant = cfg.tenant(change.id)
    assert (tenant["code"], tenant["name_en"]) == ("DINSOS", "Dinas Sosial")
    row = audit_rows(cfg.store, "tenant.created")[-1]
    assert (row["actor"], row["device"]) == ("admin:boss", "ip:10.0.0.9")
    assert json.loads(row["details"])["code"] == "DINSOS"

    update = cfg.update_tenant(ADMIN, change.id, {"name_en": "Social Affairs Office"})
    assert update.changes == {"name_en": ["Dinas Sosial", "Social Affairs Office"]}
    details = json.loads(audit_rows(cfg.store, "tenant.updated")[-1]["details"])
    assert details["changes"] == {"name_en": ["Dinas Sosial", "Social Affairs Office"]}

    before = dump(cfg.store)
    assert not cfg.update_tenant(ADMIN, change.id, {"name_en": "Social Affairs Office"}).changed
    assert dump(cfg.store) == before, "a change that changes nothing writes nothing"
    assert cfg.store.verify_audit().ok


def test_service_create_update_and_retire(cfg: Config, clock: Any) -> None:
    queue = Queue(cfg.store, clock)
    change = cfg.create_service(ADMIN, service_fields(quota_walkin="2", priority_rule="interleave 2",
                                                      hours={"mon": [["08:00", "12:00"], ["13:00", "15:00"]]}))
    service = cfg.service(change.id)
    assert service["quota_walkin"] == 2 and service["quota_online"] is None
    assert service["hours"]["mon"] == [["08:00", "12:00"], ["13:00", "15:00"]] and service["hours"]["sun"] == []
    assert any(s["code"] == "Q" for s in queue.services())
    queue.issue(change.id)
    assert cfg.set_service_active(ADMIN, change.id, False).data["waiting"] == 1
    assert all(s["code"] != "Q" for s in queue.services())
    with pytest.raises(RuleError) as caught:
        queue.issue(change.id)
    assert caught.value.code == "service_closed"
    assert [r["action"] for r in audit_rows(cfg.store, "service.deactivated")] == ["service.deactivated"]


def test_retiring_a_tenant_retires_its_services(cfg: Config, clock: Any) -> None:
    change = cfg.set_tenant_active(ADMIN, 2, False)  # Imigrasi: P and PG
    queue = Queue(cfg.store, clock)
    codes = {s["code"] for s in queue.services()}
    assert not codes & {"P", "PG"}
    assert len(change.data["services_deactivated"]) == 2
    assert cfg.set_tenant_active(ADMIN, 2, True).changed
    assert not {s["code"] for s in queue.services()} & {"P", "PG"}, "services come back one by one"


def test_retired_counter_leaves_screens_and_takes_no_action(cfg: Config, clock: Any) -> None:
    from antre.config import refuse_inactive_counter

    queue = Queue(cfg.store, clock)
    queue.counter_guards.append(refuse_inactive_counter)
    new = cfg.create_counter(ADMIN, {"name": "Loket 27", "zone": "Lantai 3", "service_ids": ["1", 2]})
    assert new.data == {"name": "Loket 27", "zone": "lantai-3", "service_ids": [1, 2], "sort": 0}
    assert "lantai-3" in queue.zones()
    assert cfg.set_counter_active(ADMIN, new.id, False).changed
    assert new.id not in [c["id"] for c in queue.counters()]
    assert new.id not in [c["id"] for c in queue.display_state(None)["counters"]]
    assert "lantai-3" not in queue.zones()
    queue.issue(1)
    with pytest.raises(RuleError) as caught:
        queue.call_next(new.id)
    assert caught.value.code == "counter_inactive"
    assert cfg.set_counter_active(ADMIN, new.id, True).changed
    assert queue.call_next(new.id).ticket is not None


def test_staff_accounts(cfg: Config) -> None:
    store = cfg.store
    change = cfg.create_user(ADMIN, {"username": "Sari.W", "password": "kata-sandi-panjang", "role": "counter",
                                     "tenant_id": "1", "display_name": "Sari"})
    user_id = change.id
    row = audit_rows(store, "user.created")[-1]
    assert (row["actor"], row["device"]) == ("admin:boss", "ip:10.0.0.9")
    assert "kata-sandi" not in dump(store).split("INSERT INTO \"audit\"")[-1]
    assert auth.check_login(store, "sari.w", "kata-sandi-panjang")["tenant_id"] == 1

    assert cfg.update_user(ADMIN, user_id, {"role": "supervisor", "tenant_id": ""}).changes == {
        "role": ["counter", "supervisor"], "tenant_id": [1, None]}
    for _ in range(auth.LOCK_AFTER):
        with pytest.raises(RuleError):
            auth.check_login(store, "sari.w", "salah-salah-salah")
    assert cfg.user(user_id)["locked_until"]
    assert cfg.unlock_user(ADMIN, user_id).changed
    assert not cfg.unlock_user(ADMIN, user_id).changed
    assert cfg.reset_password(ADMIN, user_id, "sandi-baru-yang-panjang").changed
    assert auth.check_login(store, "sari.w", "sandi-baru-yang-panjang")
    assert cfg.set_user_active(ADMIN, user_id, False).changed
    assert auth.get_user(store, user_id) is None, "a deactivated account's session ends at its next request"
    assert {r["action"] for r in audit_rows(store, "user.password_reset")} == {"user.password_reset"}
    # A second admin may now be demoted by the first.
    second = cfg.create_user(ADMIN, {"username": "andi", "password": "kata-sandi-panjang", "role": "admin"})
    assert cfg.update_user(ADMIN, second.id, {"role": "counter"}).changed


def test_tokens_created_and_revoked_with_audit(cfg: Config) -> None:
    change, token = cfg.create_token(ADMIN, "display", "TV lobi")
    assert auth.verify_token(cfg.store, token).role == "display"
    assert token not in dump(cfg.store), "only the token's hash is stored"
    created = audit_rows(cfg.store, "token.created")[-1]
    assert (created["actor"], created["device"]) == ("admin:boss", "ip:10.0.0.9")
    assert cfg.revoke_token(ADMIN, change.id).changed
    assert auth.verify_token(cfg.store, token) is None
    assert not cfg.revoke_token(ADMIN, change.id).changed
    assert audit_rows(cfg.store, "token.revoked")[-1]["device"] == "ip:10.0.0.9"


def test_settings_defaults_update_and_public_view(cfg: Config) -> None:
    settings = read_settings(cfg.store)
    assert settings["kiosk_idle_seconds"] == 30 and settings["voice"]["repeats"] == 1
    assert settings["mpp_name"] == "Mal Pelayanan Publik Kota Antre"  # seeded by the demo
    _c, _t = cfg.create_token(ADMIN, "kiosk", "Kiosk 1")
    kiosk = str(next(t["id"] for t in cfg.tokens() if t["role"] == "kiosk"))
    change = cfg.update_settings(ADMIN, {"kiosk_idle_seconds": "45", "ticket_footer": " Terima kasih \nSalam",
                                         "voice": {"number_style": "digits"}, "printers": {kiosk: " agent "}})
    assert set(change.changes) == {"kiosk_idle_seconds", "ticket_footer", "voice", "printers"}
    settings = read_settings(cfg.store)
    assert settings["ticket_footer"] == "Terima kasih\nSalam"
    assert settings["printers"] == {kiosk: "agent"}
    assert settings["voice"]["number_style"] == "digits" and settings["voice"]["zero_word"] == "nol"
    assert set(public_settings(cfg.store)) == {"mpp_name", "running_text", "voice", "audio_output",
                                               "kiosk_idle_seconds", "ticket_footer"}
    assert cfg.update_settings(ADMIN, {"audio_output": "server", "audio_device": " plughw:1,0 "}).changed
    from antre.announce import load_voice_config

    output = load_voice_config(cfg.store)
    assert (output.audio_output, output.audio_device) == ("server", "plughw:1,0"), "the display part reads them"
    first, second = audit_rows(cfg.store, "settings.updated")
    assert json.loads(first["details"])["changes"]["kiosk_idle_seconds"] == [30, 45]
    assert json.loads(second["details"])["changes"]["audio_output"] == ["browser", "server"]
    assert not cfg.update_settings(ADMIN, {"kiosk_idle_seconds": 45}).changed


# ------------------------------------------------------------------- pairing


def test_pairing_by_code(cfg: Config, clock: Any) -> None:
    issued = cfg.start_pairing(["kiosk"], "10.0.0.50")
    code = issued["code"]
    assert len(code) == 6 and code.isdigit()
    assert code not in dump(cfg.store).split("pairing_codes")[-1], "the code is stored hashed"
    assert cfg.collect_pairing(issued["claim"])["state"] == "waiting"
    refused(cfg.store, lambda: cfg.pair_with_code(ADMIN, code, "display", "TV"), "role_mismatch", "role")
    change = cfg.pair_with_code(ADMIN, f"{code[:3]} {code[3:]}", "kiosk", "Kiosk lobi")
    assert change.data["device_address"] == "10.0.0.50"
    row = audit_rows(cfg.store, "device.paired")[-1]
    assert (row["actor"], row["device"]) == ("admin:boss", "ip:10.0.0.9")
    # Only the browser holding the claim collects, and only once.
    assert cfg.collect_pairing("someone-else")["state"] == "unknown"
    collected = cfg.collect_pairing(issued["claim"])
    assert collected["state"] == "paired" and collected["role"] == "kiosk"
    assert auth.token_by_id(cfg.store, collected["token_id"]).name == "Kiosk lobi"
    assert cfg.collect_pairing(issued["claim"])["state"] == "unknown"
    refused(cfg.store, lambda: cfg.pair_with_code(ADMIN, code, "kiosk", "Again"), "unknown_code", "code")


def test_pairing_codes_expire_and_are_bounded(cfg: Config, clock: Any) -> None:
    old = cfg.start_pairing(["display"], "10.0.0.51")
    clock.advance(PAIR_CODE_SECONDS + 1)
    assert cfg.collect_pairing(old["claim"])["state"] == "expired"
    refused(cfg.store, lambda: cfg.pair_with_code(ADMIN, old["code"], "display", "TV"), "unknown_code")
    for bad in ([], ["admin"], ["kiosk", "kiosk"], "kiosk", None):
        with pytest.raises(RuleError):
            cfg.start_pairing(bad)
    for _ in range(MAX_OPEN_PAIR_CODES):
        cfg.start_pairing(["kiosk"])
    refused(cfg.store, lambda: cfg.start_pairing(["kiosk"]), "too_many_codes")
    clock.advance(PAIR_CODE_SECONDS + 1)
    assert cfg.start_pairing(["kiosk"])["code"]


# --------------------------------------------------------------------- audit


def test_audit_filters_pages_and_local_dates(cfg: Config, clock: Any) -> None:
    cfg.create_tenant(ADMIN, {"code": "DINSOS", "name_id": "Dinas Sosial"})
    other = Actor("andi", "admin", device="Kiosk-PC", user_id=7)
    cfg.create_tenant(other, {"code": "DISPAR", "name_id": "Dinas Pariwisata"})
    page = cfg.audit_entries(action="tenant.created")
    assert [r["details"]["code"] for r in page["rows"]] == ["DISPAR", "DINSOS"]
    assert [r["actor"] for r in cfg.audit_entries(actor="andi")["rows"]] == ["admin:andi"]
    assert len(cfg.audit_entries(actor="kiosk-pc")["rows"]) == 1, "the actor filter also matches the device"
    assert cfg.audit_entries(actor="%")["rows"] == [], "LIKE wildcards are matched literally"
    first = cfg.audit_entries(limit=2)
    assert len(first["rows"]) == 2 and first["next_before"] == first["rows"][-1]["id"]
    second = cfg.audit_entries(limit=2, before=first["next_before"])
    assert second["rows"][0]["id"] < first["rows"][-1]["id"]
    assert "tenant.created" in cfg.audit_actions()
    # Written just now (real time), the rows belong to today's local date and no other.
    today = clock.today()
    with cfg.store.write() as db:
        cfg.store.append_audit(db, actor="t", action="probe", at="2026-11-22T17:30:00+00:00")  # 00:30 WIB Nov 23
    assert len(cfg.audit_entries(action="probe", day_from="2026-11-23", day_to="2026-11-23")["rows"]) == 1
    assert cfg.audit_entries(action="probe", day_to="2026-11-22")["rows"] == []
    assert today  # the frozen clock stays usable
    for bad in ({"day_from": "23-11-2026"}, {"day_from": "2026-11-24", "day_to": "2026-11-23"}):
        with pytest.raises(RuleError):
            cfg.audit_entries(**bad)


def test_verify_audit_reports_tampering_plainly(cfg: Config) -> None:
    cfg.create_tenant(ADMIN, {"code": "DINSOS", "name_id": "Dinas Sosial"})
    result = cfg.verify_audit(ADMIN)
    assert result["ok"] and result["rows"] >= 3
    assert audit_rows(cfg.store, "audit.verified")[-1]["actor"] == "admin:boss"
    conn = sqlite3.connect(cfg.store.path)
    with conn:  # someone with the database file edits history behind Antre's back
        conn.execute("DROP TRIGGER audit_no_update")
        conn.execute("UPDATE audit SET details = '{\"code\": \"DUKCAPIL\"}' WHERE action = 'tenant.created'")
    conn.close()
    bad = cfg.verify_audit(ADMIN)
    assert not bad["ok"]
    tampered = audit_rows(cfg.store, "tenant.created")[0]["id"]
    assert bad["first_bad_id"] == tampered and "hash" in bad["reason"]


def test_pairing_clock_uses_the_mpp_zone(cfg: Config, clock: Any) -> None:
    issued = cfg.start_pairing(["kiosk"])
    assert issued["expires_at"].endswith("+07:00")
    assert issued["expires_at"] == (clock.now() + timedelta(seconds=PAIR_CODE_SECONDS)).isoformat(timespec="seconds")
