"""Small text helpers for the simulator: tokenizing titles, trimming sentences, joining lists."""

from __future__ import annotations

import random
import re
from collections.abc import Sequence

_TOKEN = re.compile(r"[a-z][a-z0-9+#]*")
STOPWORDS = frozenset((
    "a", "an", "and", "or", "of", "the", "for", "in", "on", "to", "with", "by", "at", "as",
    "from", "all", "other", "except", "including", "not", "nec", "general", "specialist",
    "specialists", "worker", "workers",
))


def stem(token: str) -> str:
    """A tiny plural stripper: ``managers`` -> ``manager``, ``nurses`` -> ``nurse``."""
    if len(token) > 4 and token.endswith("ies"):
        return token[:-3] + "y"
    if len(token) > 3 and token.endswith("s") and not token.endswith("ss"):
        return token[:-1]
    return token


def tokens(text: str) -> list[str]:
    """Lower-cased, stemmed content words of a title or label."""
    return [stem(t) for t in _TOKEN.findall(text.lower()) if t not in STOPWORDS]


def normalize_title(text: str) -> str:
    """A title as a canonical string of its content words, for exact matching."""
    return " ".join(tokens(text))


def first_sentence(text: str, max_chars: int = 320) -> str:
    """The first sentence of a description, trimmed to ``max_chars``."""
    text = " ".join(text.split())
    end = text.find(". ")
    sentence = text if end < 0 else text[: end + 1]
    if len(sentence) > max_chars:
        sentence = sentence[: max_chars - 1].rsplit(" ", 1)[0] + "…"
    return sentence


def lower_first(text: str) -> str:
    """``Plan budgets.`` -> ``plan budgets`` (for use inside a sentence)."""
    text = text.strip().rstrip(".")
    if len(text) > 1 and text[0].isupper() and not text[1].isupper():
        return text[0].lower() + text[1:]
    return text


def join_words(items: Sequence[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    items = [i for i in items if i]
    if not items:
        return ""
    if len(items) == 1:
        return items[0]
    return ", ".join(items[:-1]) + " and " + items[-1]


def singular(word: str) -> str:
    """English singular of an occupation noun (``Secretaries`` -> ``Secretary``)."""
    lower = word.lower()
    if lower.endswith("wives"):
        return word[:-3] + "fe"
    if lower.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if lower.endswith(("ches", "shes", "sses", "xes")):
        return word[:-2]
    if lower.endswith("s") and not lower.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def singular_title(title: str) -> str:
    """``Setters, Operators, and Tenders`` -> ``Setter, Operator, and Tender``.

    Each word that ends a list item (before a comma, ``and``/``or``, ``of`` or the end) is made
    singular; nothing after ``of`` or ``Except`` changes.
    """
    words = title.split(" ")
    out: list[str] = []
    for i, word in enumerate(words):
        if word in ("of", "Except"):
            return " ".join(out + words[i:])
        following = words[i + 1] if i + 1 < len(words) else ""
        bare = word.rstrip(",")
        if word.endswith(",") or following in ("", "and", "or", "of"):
            word = singular(bare) + word[len(bare):]
        out.append(word)
    return " ".join(out)


def gerund(phrase: str) -> str:
    """``manage budgets`` -> ``managing budgets`` (the first word is taken to be a verb)."""
    verb, _, rest = phrase.partition(" ")
    if verb.endswith("ie"):
        verb = verb[:-2] + "ying"
    elif verb.endswith("e") and not verb.endswith(("ee", "ye", "oe")) and len(verb) > 2:
        verb = verb[:-1] + "ing"
    else:
        verb += "ing"
    return f"{verb} {rest}".strip()


def below(rnd: random.Random, n: int) -> int:
    """A uniform integer in [0, n): ``rnd.randrange(n)``, several times faster."""
    return int(rnd.random() * n)


def between(rnd: random.Random, low: int, high: int) -> int:
    """A uniform integer in [low, high], inclusive: a fast ``rnd.randint``."""
    return low + int(rnd.random() * (high - low + 1))


def with_article(noun: str) -> str:
    """"a Director", "an IT Manager", "an Interior Designer": the indefinite article by the
    sound of the first letter (a vowel, or a capital read letter by letter, as in "IT")."""
    first, lower = noun[:1], noun.lower()
    spelled = len(noun) > 1 and noun[:2].isupper()  # "IT Manager", "HR Specialist"
    if spelled:
        vowel_sound = first in "AEFHILMNORSX"
    elif lower.startswith(_A_BEFORE_VOWEL):  # "a User Researcher", "a European ..."
        vowel_sound = False
    else:
        vowel_sound = first.lower() in "aeiou" or lower.startswith(_AN_BEFORE_H)
    return f"{'an' if vowel_sound else 'a'} {noun}"


_A_BEFORE_VOWEL = ("uni", "use", "usu", "uti", "ura", "ure", "uro", "eu", "one", "once")
_AN_BEFORE_H = ("hour", "honest", "honor", "honour", "heir")
