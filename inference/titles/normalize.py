"""Job-title normalization before matching: ASCII lower case, abbreviations expanded, seniority
and level words, internships and advert noise removed, common non-English forms translated.

``"Sr. Data Eng II"`` -> ``"data engineer"``; ``"Internship - Digital Marketer"`` ->
``"digital marketer"``; ``"Technical Lead"`` keeps ``lead`` (it is the head noun there).
"""

from __future__ import annotations

import re
import unicodedata

SENIORITY = frozenset((
    "senior", "sr", "snr", "sen", "junior", "jr", "jnr", "jun", "lead", "principal", "staff",
    "head", "i", "ii", "iii", "iv", "v", "1", "2", "3", "4", "5", "l1", "l2", "l3", "l4",
    "trainee", "intern", "interns", "internship", "internships", "graduate", "entry", "level",
    "mid", "experienced"))
HEAD_WORDS = frozenset(("lead", "head", "principal", "staff"))
"""Seniority words kept when they end the title (``Technical Lead``, ``Department Head``)."""
NOISE = frozenset((
    "urgent", "urgently", "needed", "wanted", "hiring", "immediate", "immediately", "required",
    "vacancy", "vacancies", "job", "jobs", "male", "female", "only", "full", "part", "time",
    "fulltime", "parttime", "ft", "pt", "contract", "temporary", "temp", "permanent", "based",
    "position", "fresh", "welcome", "salary", "up", "to", "month", "week", "the", "for", "a",
    "an", "at", "of", "in", "with", "m", "f", "w", "d", "h", "x", "mwd", "hf", "fh"))
ABBREVIATIONS = {
    "eng": "engineer", "engr": "engineer", "mgr": "manager", "mngr": "manager",
    "exec": "executive", "asst": "assistant", "ast": "assistant", "dev": "developer",
    "devs": "developer", "hr": "human resources", "qa": "quality assurance",
    "qc": "quality control", "acct": "accountant", "accts": "accounts", "rep": "representative",
    "reps": "representative", "tech": "technician", "coord": "coordinator", "spv": "supervisor",
    "supv": "supervisor", "svc": "service", "ops": "operations", "sw": "software",
    "sys": "system", "admin": "administrative", "adm": "administrative",
    "cs": "customer service", "pa": "personal assistant", "it": "ict", "dba":
    "database administrator", "swe": "software engineer", "sde": "software developer",
    "pm": "project manager", "fnb": "food and beverage", "f&b": "food and beverage",
    "mkt": "marketing", "mktg": "marketing", "biz": "business", "gm": "general manager",
    "ceo": "chief executive officer", "cfo": "chief financial officer",
    "cto": "chief technology officer", "coo": "chief operating officer", "vp": "vice president",
    "dir": "director", "engg": "engineering", "mech": "mechanical", "elec": "electrical",
    "rn": "registered nurse", "cna": "nursing assistant", "r&d": "research and development",
    "bd": "business development", "bdm": "business development manager",
    "bde": "business development executive", "ui": "user interface", "ux": "user experience",
    "sales": "sales", "mgmt": "management", "dept": "department", "prog": "programmer",
    "hse": "health safety environment", "ehs": "health safety environment",
}
TRANSLATIONS = {
    # Malay
    "pemandu": "driver", "kerani": "clerk", "jurujual": "salesperson", "tukang": "worker",
    "masak": "cook", "pekerja": "worker", "am": "general", "penyelia": "supervisor",
    "juruteknik": "technician", "pembantu": "assistant", "jurutera": "engineer",
    "jururawat": "nurse", "pengawal": "guard", "keselamatan": "security", "cat": "painter",
    "petukang": "worker", "akauntan": "accountant", "pengurus": "manager", "guru": "teacher",
    "kedai": "shop", "dapur": "kitchen",
    "penghantar": "delivery", "pencuci": "cleaner", "jurumasak": "cook",
    # French
    "ingenieur": "engineer", "developpeur": "developer", "vendeur": "salesperson",
    "vendeuse": "salesperson", "comptable": "accountant", "infirmier": "nurse",
    "infirmiere": "nurse", "chauffeur": "driver", "cuisinier": "cook", "serveur": "waiter",
    "serveuse": "waitress", "directeur": "director", "responsable": "manager",
    "technicien": "technician", "logiciel": "software", "commercial": "sales",
    # German
    "entwickler": "developer", "ingenieurin": "engineer", "verkaufer": "salesperson",
    "verkauferin": "salesperson", "buchhalter": "bookkeeper", "krankenpfleger": "nurse",
    "fahrer": "driver", "koch": "cook", "kellner": "waiter", "leiter": "manager",
    "softwareentwickler": "software developer", "mitarbeiter": "worker",
    # Spanish / Portuguese / Dutch
    "ingeniero": "engineer", "desarrollador": "developer", "vendedor": "salesperson",
    "contador": "accountant", "enfermero": "nurse", "enfermera": "nurse",
    "conductor": "driver", "cocinero": "cook", "camarero": "waiter", "gerente": "manager",
    "engenheiro": "engineer", "programador": "programmer", "motorista": "driver",
    "verpleegkundige": "nurse", "boekhouder": "bookkeeper", "verkoper": "salesperson",
    "ontwikkelaar": "developer", "kok": "cook",
}
_SALARY = re.compile(r"\b(rm|usd|eur|\$|€)\s*\d[\d,.]*k?\b|\b\d[\d,.]*k?\s*(rm|usd|eur)\b")
_NON_WORD = re.compile(r"[^a-z0-9+#&]+")


def ascii_lower(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()


def normalize_title(text: str) -> str:
    """The words of a title that name the occupation (empty when none are left)."""
    text = _SALARY.sub(" ", ascii_lower(text))
    words = [w.strip("&") for w in _NON_WORD.sub(" ", text).split()]
    words = [w for w in words if w]
    out: list[str] = []
    for k, word in enumerate(words):
        if word in NOISE:
            continue
        if word == "head" and k < len(words) - 1:
            word = "manager"  # "Head of Sales" -> "manager sales"
        elif word in SENIORITY and not (word in HEAD_WORDS and k == len(words) - 1 and out):
            continue
        word = TRANSLATIONS.get(word, word)
        out.extend(ABBREVIATIONS.get(word, word).split())
    return " ".join(out)


def normalize_label(text: str) -> str:
    """An ESCO label or known title: the same characters, but no words dropped."""
    return " ".join(_NON_WORD.sub(" ", ascii_lower(text)).split())
