"""Every text the kiosk page shows or speaks, by a short key.

The values are the Indonesian message ids (English lives in
``kiosk/translations/en/LC_MESSAGES/messages.po``).  The page gets both
languages of all of them at once (it switches language without a reload), and
the speech route only ever speaks these texts, the names of services, tenants
and counters, numbers and times: never text sent by a client.
"""

from __future__ import annotations


def N_(message: str) -> str:  # noqa: N802 - the gettext convention for "mark only"
    """Mark a message for extraction (``pybabel extract -k N_``); translated when used."""
    return message


#: key -> Indonesian msgid.
TEXTS: dict[str, str] = {
    "app_title": N_("Ambil Nomor Antrian"),
    "welcome": N_("Selamat datang"),
    "start_take": N_("Ambil nomor antrian"),
    "start_take_hint": N_("Pilih instansi dan layanan"),
    "start_booking": N_("Saya punya kode booking"),
    "start_booking_hint": N_("Booking online di MPP Digital"),
    "scan_hint": N_("Punya QR booking? Arahkan ke pemindai kapan saja."),
    "screen_tenants": N_("Pilih instansi"),
    "screen_tenants_hint": N_("Sentuh instansi yang Anda tuju."),
    "screen_services": N_("Pilih layanan"),
    "screen_priority": N_("Apakah Anda memerlukan layanan prioritas?"),
    "priority_hint": N_(
        "Untuk penyandang disabilitas, lanjut usia, ibu hamil, dan pengunjung yang membawa anak kecil."),
    "prio_no": N_("Tidak"),
    "prio_disabled": N_("Penyandang disabilitas"),
    "prio_elderly": N_("Lanjut usia"),
    "prio_pregnant": N_("Ibu hamil"),
    "prio_child": N_("Membawa anak kecil"),
    "screen_ticket": N_("Nomor antrian Anda"),
    "people_ahead": N_("Antrian di depan Anda"),
    "eta": N_("Perkiraan waktu tunggu"),
    "counters": N_("Dilayani di"),
    "minutes": N_("%(n)s menit"),
    "hours_minutes": N_("%(h)s jam %(m)s menit"),
    "eta_unknown": N_("belum dapat diperkirakan"),
    "eta_now": N_("kurang dari 1 menit"),
    "issued_at": N_("Diambil"),
    "scan_qr": N_("Pindai kode QR untuk memantau antrian dari ponsel Anda."),
    "qr_alt": N_("Kode QR untuk memantau nomor antrian %(number)s"),
    "printing": N_("Tiket sedang dicetak…"),
    "printed": N_("Silakan ambil tiket Anda di bawah layar."),
    "print_failed_title": N_("Printer sedang bermasalah"),
    "photo_screen": N_("Foto layar ini"),
    "print_failed": N_("Foto layar ini sebagai bukti nomor antrian Anda. Petugas sudah diberi tahu."),
    "print_later": N_("Tiket akan dicetak begitu printer siap."),
    "done": N_("Selesai"),
    "back": N_("Kembali"),
    "start_over": N_("Ke awal"),
    "waiting_n": N_("%(n)s menunggu"),
    "people_waiting": N_("orang menunggu"),
    "wait_about": N_("perkiraan tunggu"),
    "minutes_word": N_("menit"),
    "closed": N_("Tutup"),
    "opens_at": N_("Buka lagi %(when)s"),
    "opens_again": N_("buka lagi"),
    "today": N_("hari ini"),
    "tomorrow": N_("besok"),
    "at_time": N_("pukul"),
    "quota_full": N_("Kuota hari ini habis"),
    "quota_left": N_("Sisa kuota hari ini: %(n)s"),
    "not_available": N_("Tidak tersedia"),
    "priority_badge": N_("Prioritas"),
    "booking_title": N_("Masukkan kode booking"),
    "booking_hint": N_("Ketik kode dari MPP Digital, atau pindai QR booking Anda."),
    "booking_label": N_("Kode booking"),
    "booking_submit": N_("Check-in"),
    "delete": N_("Hapus"),
    "keyboard": N_("Papan ketik"),
    "checking_in": N_("Memeriksa kode booking…"),
    "booking_short": N_("Kode booking terdiri dari 4 sampai 32 huruf atau angka."),
    "issuing": N_("Mengambil nomor…"),
    "confirm_again_title": N_("Ambil nomor lagi?"),
    "confirm_again": N_("Anda baru saja mengambil nomor %(number)s untuk layanan ini."),
    "confirm_yes": N_("Ya, ambil nomor baru"),
    "confirm_no": N_("Tidak, kembali"),
    "ok": N_("Mengerti"),
    "err_closed_title": N_("Layanan sedang tutup"),
    "err_quota_title": N_("Kuota sudah habis"),
    "err_quota": N_("Kuota harian layanan ini sudah habis. Silakan datang lagi pada hari kerja berikutnya."),
    "err_closed": N_("Layanan ini sedang tutup."),
    "err_generic_title": N_("Maaf, ada kendala"),
    "err_generic": N_("Nomor belum dapat diambil. Silakan coba lagi atau hubungi petugas."),
    "err_offline": N_("Kios tidak terhubung ke server. Silakan coba lagi atau hubungi petugas."),
    "err_booking_title": N_("Kode booking tidak dapat dipakai"),
    "err_booking_unknown": N_("Kode booking tidak dikenal. Periksa kembali kode Anda."),
    "err_booking_used": N_("Kode booking ini sudah dipakai."),
    "err_booking_time": N_("Kode booking ini bukan untuk waktu sekarang. Silakan hubungi petugas."),
    "idle_in": N_("Kembali ke awal dalam %(n)s detik"),
    "idle_warning": N_("Masih di sini? Layar akan kembali ke awal."),
    "extend": N_("Tambah waktu"),
    "lang_switch": N_("English"),
    "a11y_title": N_("Bantuan akses"),
    "a11y_speech": N_("Suara"),
    "a11y_contrast": N_("Kontras tinggi"),
    "a11y_text": N_("Teks besar"),
    "a11y_reach": N_("Jangkauan rendah"),
    "a11y_scan": N_("Pindai saklar"),
    "keys_help": N_("Papan angka: 1–9 pilih · 0 kembali · * suara"),
    "option_number": N_("Pilihan %(n)s"),
    "offline_banner": N_("Koneksi ke server terputus. Mencoba lagi…"),
    "speech_on": N_(
        "Mode suara aktif. Gunakan tombol panah atau angka untuk memilih, lalu tekan Enter."),
    "speech_off": N_("Mode suara mati."),
    "say_start": N_(
        "Selamat datang. Tekan 1 untuk mengambil nomor antrian, atau 2 jika Anda punya kode booking."),
    "say_tenants": N_("Pilih instansi. Tekan angka pilihan, atau gunakan panah dan Enter. Tekan 0 untuk kembali."),
    "say_services": N_("Pilih layanan. Tekan 0 untuk kembali."),
    "say_priority": N_(
        "Apakah Anda memerlukan layanan prioritas? Tekan 1 untuk tidak. Tekan 2 untuk penyandang disabilitas, "
        "3 untuk lanjut usia, 4 untuk ibu hamil, 5 untuk membawa anak kecil."),
    "say_booking": N_("Masukkan kode booking, lalu tekan Enter."),
    "say_print_failed": N_(
        "Printer sedang bermasalah. Ingat atau foto nomor antrian Anda di layar. Petugas sudah diberi tahu."),
    "say_quota": N_("Kuota hari ini sudah habis."),
    "say_idle": N_("Masih di sini? Tekan tombol apa saja untuk menambah waktu."),
    "day_0": N_("Minggu"),
    "day_1": N_("Senin"),
    "day_2": N_("Selasa"),
    "day_3": N_("Rabu"),
    "day_4": N_("Kamis"),
    "day_5": N_("Jumat"),
    "day_6": N_("Sabtu"),
}
