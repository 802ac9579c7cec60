"""The text both classifier backends see: one canonical spelling of an SMS.

:func:`normalise` is pure and deterministic. In order:

1. emoji that carry meaning become words-like tokens (👍 → ``emoji_ok``, 🙏 → ``emoji_thanks``,
   🛑 → ``emoji_stop``, 🚨 → ``emoji_alarm``, …); any other pictograph becomes ``emoji``;
2. Unicode NFKD, accents dropped (``más`` → ``mas``), lower case, apostrophes removed
   (``don't`` → ``dont``);
3. ``?`` and ``!`` are kept as tokens (a run of them counts once: ``stop!!!`` → ``stop !``); any
   other punctuation separates words;
4. a letter repeated three times or more is squeezed (``pleeease`` → ``please``, ``stoppp`` →
   ``stop``, ``goooood`` → ``good``: the double is kept when it makes a common word);
5. common SMS spellings become words (:data:`SPELLINGS`: ``pls`` → ``please``, ``u`` → ``you``,
   ``thx`` → ``thanks``, ``appt`` → ``appointment``, ``tmrw`` → ``tomorrow``, ``asap`` → ``as soon
   as possible``, ``msgs`` → ``messages``, Spanish ``porfa`` → ``por favor``, …).

The result is the tokens joined by single spaces.
"""

from __future__ import annotations

import re
import unicodedata

EMOJI: dict[str, str] = {
    **dict.fromkeys("👍👌✅✔☑🆗", "emoji_ok"),
    **dict.fromkeys("🙏", "emoji_thanks"),
    **dict.fromkeys("🛑⛔🚫✋🤚", "emoji_stop"),
    **dict.fromkeys("🚨🆘‼⚠🔥", "emoji_alarm"),
    **dict.fromkeys("❤💕💖💗😘😍🥰😊🙂☺😀😃😄😁", "emoji_happy"),
    **dict.fromkeys("😂🤣😆😅", "emoji_laugh"),
    **dict.fromkeys("🎉🎊🎂🥳🎈🎁", "emoji_party"),
    **dict.fromkeys("😡😠🤬😤", "emoji_angry"),
    **dict.fromkeys("😢😭😞😔☹🙁", "emoji_sad"),
    **dict.fromkeys("📅🗓⏰🕐", "emoji_calendar"),
    **dict.fromkeys("❓❔🤔", "?"),
}
_IGNORED = frozenset("\u200d\ufe0f\ufe0e")  # zero-width joiner and variation selectors

SPELLINGS: dict[str, str] = {
    # English
    "pls": "please",
    "plz": "please",
    "plss": "please",
    "plzz": "please",
    "pleas": "please",
    "pleae": "please",
    "pleasee": "please",
    "u": "you",
    "ya": "you",
    "yu": "you",
    "ur": "your",
    "r": "are",
    "thx": "thanks",
    "thnx": "thanks",
    "thnks": "thanks",
    "thanx": "thanks",
    "thks": "thanks",
    "tks": "thanks",
    "tx": "thanks",
    "ty": "thank you",
    "tyvm": "thank you very much",
    "tysm": "thank you so much",
    "msg": "message",
    "msgs": "messages",
    "mssg": "message",
    "mssgs": "messages",
    "msging": "messaging",
    "txt": "text",
    "txts": "texts",
    "txting": "texting",
    "txted": "texted",
    "appt": "appointment",
    "appts": "appointments",
    "apt": "appointment",
    "mtg": "meeting",
    "mtgs": "meetings",
    "resched": "reschedule",
    "asap": "as soon as possible",
    "tmrw": "tomorrow",
    "tmrrw": "tomorrow",
    "tmr": "tomorrow",
    "tmw": "tomorrow",
    "tomoro": "tomorrow",
    "tomorow": "tomorrow",
    "tommorow": "tomorrow",
    "tommorrow": "tomorrow",
    "2morrow": "tomorrow",
    "2moro": "tomorrow",
    "2mrw": "tomorrow",
    "2day": "today",
    "2nite": "tonight",
    "tonite": "tonight",
    "b4": "before",
    "bc": "because",
    "cuz": "because",
    "coz": "because",
    "wk": "week",
    "wks": "weeks",
    "wknd": "weekend",
    "hr": "hour",
    "hrs": "hours",
    "min": "minutes",
    "mins": "minutes",
    "k": "ok",
    "kk": "ok",
    "okay": "ok",
    "okey": "ok",
    "okie": "ok",
    "acct": "account",
    "acc": "account",
    "abt": "about",
    "w": "with",
    "bday": "birthday",
    "sry": "sorry",
    "thru": "through",
    "ppl": "people",
    "pic": "picture",
    "pics": "pictures",
    "wanna": "want to",
    "gonna": "going to",
    "gotta": "got to",
    "idk": "i dont know",
    "n": "and",
    "q": "question",
    "cxl": "cancel",
    "cncl": "cancel",
    "unsub": "unsubscribe",
    "urgnt": "urgent",
    "emergancy": "emergency",
    "emergecy": "emergency",
    "recieve": "receive",
    "recieved": "received",
    # Spanish
    "porfa": "por favor",
    "porfis": "por favor",
    "xfa": "por favor",
    "xfavor": "por favor",
    "msj": "mensaje",
    "msjs": "mensajes",
    "mjs": "mensajes",
    "tmb": "tambien",
    "xq": "porque",
}

# Words with a double letter that squeezing must keep (else "goooood" would become "god").
_DOUBLES = frozenset(
    [
        "good",
        "cool",
        "soon",
        "too",
        "see",
        "need",
        "feel",
        "all",
        "will",
        "call",
        "well",
        "off",
        "free",
        "meet",
        "week",
        "sorry",
        "book",
        "look",
        "coffee",
        "keep",
        "tell",
        "hello",
        "yes",
        "ok",
        "too",
        "food",
        "agree",
        "cheers",
        "tomorrow",
        "apply",
        "address",
        "account",
        "appointment",
        "accept",
        "add",
        "baby",
        "bill",
        "funny",
        "happy",
        "little",
        "letter",
        "matter",
        "message",
        "messages",
        "meeting",
        "million",
        "pass",
        "press",
        "sell",
        "shall",
        "still",
        "stuff",
        "sweet",
        "three",
        "tree",
        "wood",
        "yeees",
        "ll",
    ]
)
_RUN = re.compile(r"([a-z])\1{2,}")
_APOSTROPHE = re.compile(r"[’'`´]")
_MARKS = re.compile(r"([?!])[?!]*")
_NON_WORD = re.compile(r"[^a-z0-9_?! ]+")
_SPELT = frozenset(SPELLINGS)


def normalise(text: str) -> str:
    """The canonical spelling of ``text`` (see the module's docstring); ``""`` for an empty text."""
    # ASCII has no emoji, nothing to decompose and no accent: steps 1 and 2 are only lower case
    plain = text.lower() if text.isascii() else _fold(_emoji_to_words(text))
    plain = _APOSTROPHE.sub("", plain)
    words = _NON_WORD.sub(" ", _MARKS.sub(r" \1 ", plain)).split()
    if _RUN.search(plain):  # spaces only ever split a run: no run here, none in any word
        words = [_squeeze(word) for word in words]
    if not _SPELT.isdisjoint(words):
        return " ".join(SPELLINGS.get(word, word) for word in words)
    return " ".join(words)


def tokens(text: str) -> list[str]:
    """The words of :func:`normalise`'s result."""
    return normalise(text).split()


def _emoji_to_words(text: str) -> str:
    out: list[str] = []
    for char in text:
        if char in _IGNORED:
            continue
        if char in EMOJI:
            out.append(f" {EMOJI[char]} ")
        elif unicodedata.category(char) == "So" or 0x1F000 <= ord(char) <= 0x1FAFF:
            out.append(" emoji ")
        else:
            out.append(char)
    return "".join(out)


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def _squeeze(word: str) -> str:
    if not _RUN.search(word):
        return word
    double = _RUN.sub(r"\1\1", word)
    single = _RUN.sub(r"\1", word)
    return double if double in _DOUBLES or double in SPELLINGS else single
