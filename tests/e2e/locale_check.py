"""Checks that a text the add-on shows comes from the locale file of the run's language.

A text passes when it is
  - one message of the locale file, with every substitution ($1, $2, …) itself passing (data, or
    another message, or sentences of messages: the tooltip adds a second sentence);
  - or data: addresses, URLs (a directory's, a responder's), fingerprints and serial numbers, names and files of the test PKI, algorithm
    names, symbols without letters, and dates and numbers written the way the language writes
    them (de: "05.12.2026, 04:46", "10.000"; en: "Dec 5, 2026, 4:46 AM", "10,000");
  - or several of these joined by " · " (the add-on's list separator) or ", ".
A control the browser labels itself ("Browse…" of a file field) fails: its words are not ours.
So an English (or hard-coded) sentence in the German run fails, and so do a raw message key
("state_valid"), an untranslated error of the host (its `message` is English), and a date or
number in the other language's format.

Usage: locale_check.py --self-test DIR_OF_LOCALES   (checks the checker; run by run.sh)
"""

import json
import re
import sys
from functools import lru_cache

MONTHS = {
    "en": r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)",
}
DATES = {
    # Intl.DateTimeFormat(de, {dateStyle: "medium", timeStyle?: "short"})
    "de": re.compile(r"\d{2}\.\d{2}\.\d{4}(?:, \d{2}:\d{2})?"),
    "en": re.compile(MONTHS["en"] + r" \d{1,2}, \d{4}(?:, \d{1,2}:\d{2} (?:AM|PM))?"),
}
NUMBERS = {"de": re.compile(r"\d{1,3}(?:\.\d{3})*|\d{1,4}"), "en": re.compile(r"\d{1,3}(?:,\d{3})*|\d{1,4}")}
ADDRESS = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}")
URL = re.compile(r"(?:ldaps?|https?)://[^\s/]+(?:/[^\s]*)?")
HEX = re.compile(r"(?:[0-9A-F]{4} ?)+…?|[0-9a-f]{8,}|[0-9A-F]{2}(?::[0-9A-F]{2})+")
ALGORITHM = re.compile(r"(?:SHA-\d+|MD5|RSA(?:-PSS|-OAEP| \(PKCS #1 v1\.5\))?|ECDSA|ECDH|Ed25519|Ed448|EC|AES-\d+-(?:CBC|GCM)|prime256v1|secp\d+r1)")
NO_LETTERS = re.compile(r"[^\w]*", re.UNICODE)
RAW_KEY = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)+")


def _pattern(message):
    """The regex of a message: its text with each $n a group; the literal fragments for a quick test."""
    parts = re.split(r"\$(\d)", message)
    regex, literals, groups = "", [], []
    for i, part in enumerate(parts):
        if i % 2:
            groups.append(int(part))
            regex += "(.+?)"
        else:
            regex += re.escape(part)
            if part.strip():
                literals.append(part.strip())
    return re.compile(regex + r"\Z", re.S), literals, len(groups)


class LocaleCheck:
    def __init__(self, messages, lang, data=()):
        """messages: {key: {"message": text}} (a messages.json); data: strings the test knows are data."""
        self.lang = lang
        self.data = {self.normal(d) for d in data if d}
        self.texts = {self.normal(v["message"]) for v in messages.values()}
        self.patterns = []
        for key, value in messages.items():
            text = self.normal(value["message"])
            pattern, literals, count = _pattern(text)
            if count and not literals:
                continue  # "$1. $2" and the like say nothing of the language: never a match alone
            self.patterns.append((key, pattern, literals, count))

    @staticmethod
    def normal(text):
        return re.sub(r"\s+", " ", str(text).replace("\u202f", " ").replace("\u00a0", " ")).strip()

    def ok(self, text, kind="text"):
        text = self.normal(text)
        if kind == "native":
            return False  # a control the browser labels in its own language (driver: COLLECT_TEXTS_PY)
        if kind == "code":
            return bool(text) and not RAW_KEY.fullmatch(text)  # commands and paths on the help page
        return self._ok(text, 0)

    @lru_cache(maxsize=None)
    def _ok(self, text, depth):
        if not text:
            return True
        if self._data(text) or text in self.texts:
            return True
        if depth > 3:
            return False
        # The add-on's own separator between facts, and a row of sentences (a tooltip's second one).
        for separator in (" · ", " — ", ", "):
            if separator in text and all(self._ok(p, depth + 1) for p in text.split(separator)):
                return True
        # Sentences of messages one after another: split where a sentence may end, and find a way
        # to group the pieces into passing texts (a message may hold several sentences itself).
        pieces = re.split(r"(?<=[.!?:)])\s+(?=[\"„“(A-ZÄÖÜ])", text)
        if len(pieces) > 1:
            reach = [True] + [False] * len(pieces)
            for end in range(1, len(pieces) + 1):
                reach[end] = any(reach[start] and self._ok(" ".join(pieces[start:end]), depth + 1)
                                 for start in range(end) if (start, end) != (0, len(pieces)))
            if reach[-1]:
                return True
        for _key, pattern, literals, count in self.patterns:
            if not count or not all(lit in text for lit in literals):
                continue
            m = pattern.match(text)
            if m and all(self._ok(g.strip(), depth + 1) for g in m.groups()):
                return True
        return False

    def _data(self, text):
        if text in self.data or NO_LETTERS.fullmatch(text):
            return True
        for regex in (ADDRESS, URL, HEX, ALGORITHM, DATES[self.lang], NUMBERS[self.lang]):
            if regex.fullmatch(text):
                return True
        # "Name <address>", a list of addresses or names, "RSA 2048", a key ID
        m = re.fullmatch(r"(.+?) <(.+)>", text)
        if m and self._data(m.group(1)) and ADDRESS.fullmatch(m.group(2)):
            return True
        if ", " in text and all(self._data(p) for p in text.split(", ")):
            return True
        # A list of dates, where a date itself holds ", " ("Dec 5, 2027, Dec 5, 2028").
        date = DATES[self.lang].pattern
        if re.fullmatch(f"(?:{date})(?:, (?:{date}))+", text):
            return True
        return False

    def offenders(self, items):
        """The items ({text, kind?, …}) whose text fails, for the report."""
        return [i for i in items if not self.ok(i["text"], i.get("kind", "text"))]


def self_test(locales):
    """The checker accepts what the add-on says and rejects what it must not say."""
    en = json.load(open(f"{locales}/en/messages.json", encoding="utf-8"))
    de = json.load(open(f"{locales}/de/messages.json", encoding="utf-8"))
    check = LocaleCheck(de, "de", data=["Alice Example", "Example Corp"])
    good = [
        de["state_valid"]["message"],
        de["look_valid_title"]["message"].replace("$1", "Alice Example <alice@example.org>")
        + " " + de["look_suffix_thunderbird_decrypted"]["message"],
        de["contacts_count_certificates_other"]["message"].replace("$1", "2") + " · "
        + de["contacts_latest_expiry"]["message"].replace("$1", "04.12.2028"),
        de["value_key_bits"]["message"].replace("$1", "RSA").replace("$2", "2048"),
        "0123 4567 89AB CDEF 0123 4567 89AB CDEF",
        "05.12.2026, 04:46",
        de["contacts_stats"]["message"].replace("$1", "10.000").replace("$2", "2").replace("$3", "0"),
        "✓",
        "Example Corp · ldaps://127.0.0.1:49161",
    ]
    bad = [
        en["state_valid"]["message"],  # English
        en["look_valid_title"]["message"].replace("$1", "Alice Example <alice@example.org>"),
        "state_valid",  # a raw key
        "Dec 5, 2026, 4:46 AM",  # an English date
        de["contacts_latest_expiry"]["message"].replace("$1", "Dec 4, 2028"),  # in a German sentence
        "RSA 2048 bit",  # a unit written in code
        "the store is locked by another process",  # a host's developer message
        de["contacts_stats"]["message"].replace("$1", "10,000").replace("$2", "2").replace("$3", "0"),
        de["help_last_error"]["message"].replace("$1", "host exited with status 1"),
        "ldaps://127.0.0.1:636 is not answering",  # words after a URL
    ]
    failures = [f"accepted {t!r}" for t in bad if check.ok(t)] + [f"rejected {t!r}" for t in good if not check.ok(t)]
    english = LocaleCheck(en, "en", data=["Alice Example"])
    if not english.ok("Dec 5, 2026, 4:46\u202fAM") or english.ok("05.12.2026"):
        failures.append("English dates")
    if not english.ok("Dec 5, 2027, Dec 5, 2028") or english.ok("Dec 5, 2027, 05.12.2028") or english.ok("Dec 5, 2027, state_valid"):
        failures.append("a list of English dates")
    for f in failures:
        print(f"locale check self-test: {f}")
    print(f"locale check self-test: {len(good) + len(bad) + 3 - len(failures)} passed, {len(failures)} failed")
    return not failures


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--self-test":
        sys.exit(0 if self_test(sys.argv[2]) else 1)
    print(__doc__)
    sys.exit(2)
