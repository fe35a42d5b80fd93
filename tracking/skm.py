"""The nine SKM elements (PermenPANRB 14/2017) as the visitor is asked them.

Each element has its own question and its own four answers, from 1 (worst)
to 4 (best), as on the standard questionnaire.  The texts are msgids
(Indonesian); English comes from the tracking catalog.
"""

from __future__ import annotations


def N_(text: str) -> str:
    """Marks a msgid for translation; it is translated when the page is drawn."""
    return text


#: (element, question, [answer for 1, 2, 3, 4])
ELEMENTS = (
    (N_("Persyaratan"),
     N_("Bagaimana kesesuaian persyaratan pelayanan dengan jenis pelayanannya?"),
     (N_("Tidak sesuai"), N_("Kurang sesuai"), N_("Sesuai"), N_("Sangat sesuai"))),
    (N_("Prosedur"),
     N_("Bagaimana kemudahan prosedur pelayanan di unit ini?"),
     (N_("Tidak mudah"), N_("Kurang mudah"), N_("Mudah"), N_("Sangat mudah"))),
    (N_("Waktu pelayanan"),
     N_("Bagaimana kecepatan waktu dalam memberikan pelayanan?"),
     (N_("Tidak cepat"), N_("Kurang cepat"), N_("Cepat"), N_("Sangat cepat"))),
    (N_("Biaya/tarif"),
     N_("Bagaimana kewajaran biaya/tarif dalam pelayanan?"),
     (N_("Sangat mahal"), N_("Cukup mahal"), N_("Murah"), N_("Gratis"))),
    (N_("Produk layanan"),
     N_("Bagaimana kesesuaian produk pelayanan antara yang tercantum dalam standar pelayanan dengan hasil "
        "yang diberikan?"),
     (N_("Tidak sesuai"), N_("Kurang sesuai"), N_("Sesuai"), N_("Sangat sesuai"))),
    (N_("Kompetensi pelaksana"),
     N_("Bagaimana kompetensi/kemampuan petugas dalam pelayanan?"),
     (N_("Tidak kompeten"), N_("Kurang kompeten"), N_("Kompeten"), N_("Sangat kompeten"))),
    (N_("Perilaku pelaksana"),
     N_("Bagaimana perilaku petugas dalam pelayanan terkait kesopanan dan keramahan?"),
     (N_("Tidak sopan dan ramah"), N_("Kurang sopan dan ramah"), N_("Sopan dan ramah"),
      N_("Sangat sopan dan ramah"))),
    (N_("Penanganan pengaduan"),
     N_("Bagaimana penanganan pengaduan pengguna layanan?"),
     (N_("Tidak ada"), N_("Ada tetapi tidak berfungsi"), N_("Berfungsi kurang maksimal"),
      N_("Dikelola dengan baik"))),
    (N_("Sarana dan prasarana"),
     N_("Bagaimana kualitas sarana dan prasarana?"),
     (N_("Buruk"), N_("Cukup"), N_("Baik"), N_("Sangat baik"))),
)


def msgids() -> list[str]:
    out: list[str] = []
    for element, question, answers in ELEMENTS:
        out += [element, question, *answers]
    return out
