"""Fuzzy opt-out: what in a text says "stop texting me", whatever the backend.

:func:`opt_out_evidence` reads the text clause by clause (split at ``. , ; : ! ?`` and new lines),
each clause normalised (:mod:`rcinbox.intents.normalise`) and its key words matched loosely
(``stpo``, ``unsubscibe``, ``stahp``: :func:`canonical`). The answer is one of:

- ``"explicit"``: a phrase that a reasonable person reads as "stop texting me" ("pls stop
  texting", "take me off your list", "no more messages", "unsubscribe me", a clause that is only
  ``stop``, Spanish "alto", "baja", "no más mensajes", "dejen de escribirme" …). Both backends answer
  ``opt_out`` at :data:`EXPLICIT_CONFIDENCE`, above :data:`rcinbox.intent.OPT_OUT_CERTAIN`.
- ``"guarded"``: an opt-out word used for something else ("stop by the office", "don't stop the
  order", "cancel my appointment", "bus stop") and nothing explicit: ``opt_out`` is ruled out.
- ``"cue"``: an opt-out word ("stop", "texts", "remove", "not interested" …) without an explicit
  phrase: the model may say ``opt_out``, but never above :data:`CUE_CEILING`: borderline, for a
  human (between ``OPT_OUT_REVIEW`` and ``OPT_OUT_CERTAIN``).
- ``"none"``: no opt-out word at all: ``opt_out`` is ruled out.

A sender's own instructions ("Reply STOP to opt out", "Txt STOP 2 end", "Responde BAJA para no
recibir más") are taken out of the text first: a marketing text's footer is not an opt-out.
"""

from __future__ import annotations

import re
from typing import Literal

from rcinbox.intent import OPT_OUT_CERTAIN
from rcinbox.intents.normalise import normalise

Evidence = Literal["explicit", "guarded", "cue", "none"]
EXPLICIT_CONFIDENCE = 0.97
CUE_CEILING = round(OPT_OUT_CERTAIN - 0.05, 2)  # a model alone never records an opt-out

_STOP_SPELLINGS = frozenset({"stop", "stpo", "sotp", "stahp", "stap", "stopp", "stoop", "sstop", "stp"})
_KEY_WORDS = (
    "unsubscribe",
    "subscription",
    "texting",
    "messaging",
    "contacting",
    "sending",
    "spamming",
    "messages",
    "message",
    "remove",
    "number",
    "mensajes",
    "escribirme",
    "mandarme",
    "enviarme",
)
_KEY_SET = frozenset(_KEY_WORDS)
_CLAUSE = re.compile(r"[.,;:!?\n]+")
_FILLER = frozenset(
    [
        "please",
        "por",
        "favor",
        "now",
        "it",
        "all",
        "thanks",
        "thank",
        "you",
        "ya",
        "ahora",
        "just",
        "ok",
        "again",
        "already",
        "right",
        "seriously",
        "omg",
        "immediately",
        "me",
        "asap",
        "as",
        "soon",
        "possible",
    ]
)
_WHOLE = frozenset(
    [
        "stop",
        "quit",
        "unsubscribe",
        "optout",
        "opt",
        "out",
        "alto",
        "baja",
        "basta",
        "remove",
        "end",
        "cancel",
    ]
)
_CLAUSE_ONLY = frozenset(
    ["stop", "unsubscribe", "optout", "opt", "alto", "baja", "basta"]
)  # inside a longer text
_MSG = r"(?:texts?|messages?|sms|notifications?|alerts?|mensajes?|textos?|spam|emails?)"
_CONTACT_ING = (
    r"(?:texting|messaging|sending|contacting|spamming|calling|bothering|emailing|writing|harassing)"
)
_EXPLICIT = re.compile(
    "|".join(
        (
            rf"(?<!dont )(?<!never )(?<!not )\b(?:stop|quit|cease) (?:\w+ ){{0,2}}?{_CONTACT_ING}\b",
            rf"\b(?:stop|quit|end|cancel) (?:all |the |these |those |your |this |with the "
            rf"|(?:my )?subscription (?:to )?(?:these |the |your )?)?{_MSG}\b",
            rf"\bno more {_MSG}\b",
            r"\b(?:dont|do not|never) (?:want|need) "
            rf"(?:any more |anymore |these |those |your |any |more )*{_MSG}\b",
            r"\b(?:dont|do not|never) (?:ever )?(?:text|message|contact|sms|send|email|write) "
            r"(?:me|us|this number)\b",
            r"\btake (?:me|my number|this number|us|my name) off\b",
            r"\boff (?:of )?(?:your|the|this) (?:list|contacts|contact list|mailing list)\b",
            r"\b(?:remove|delete|lose|erase) (?:me|us|my number|this number|my name|my contact)\b"
            r"(?! from (?:the|this|that|our|your) (?:meeting|invite|call|group|chat|event|email|thread))",
            r"\bunsubscribe\b",
            r"\bopt (?:me |us )?out\b|\boptout\b|\bout of (?:this|your|the) list\b",
            r"\bcease (?:all )?(?:contact|communication)",
            r"\bleave me alone\b",
            r"\bde baja\b|\bdarme de baja\b",
            rf"\bno (?:quiero |deseo )?(?:recibir )?mas {_MSG}\b|\bno quiero (?:recibir )?{_MSG}\b",
            r"\bno me (?:escriban|escribas|manden|mandes|envien|envies|contacten|contactes|molesten"
            r"|llamen)\b",
            r"\bdej(?:en|a|e|ar|ad) de (?:escribir|mandar|enviar|contactar|molestar|llamar)",
            r"\b(?:quitar|quiten|quita|saquen|sacar|saca|borren|borrar|borra|eliminen|eliminar|elimina) "
            r"(?:mi numero|me|de la lista|de su lista)\b",
            r"\b(?:saquenme|sacame|quitenme|quitame|borrenme) de\b",
        )
    )
)
_GUARD = re.compile(
    r"\bstop (?:by|in|at|over|to|on|for|off|and|taking|the (?!texts?|messages?))\b"
    r"|\b(?:dont|never|cant|wont|didnt|not|couldnt|cannot) stop\b"
    r"|\bstopp(?:ed|ing)\b|\bstops\b"
    r"|\b(?:bus|the|a|next|last|pit|truck|rest|one|first|final|full|this|that|my|your|our) stop\b"
    r"|\bcancel\w* (?:my|the|our|your|this|that|a) (?!texts?|messages?|subscription to)"
    r"|\b(?:muy|mas|precio|es) alto\b"
)
_INSTRUCTION = re.compile(  # a sender's own footer telling the reader how to opt out: not a request
    r"\b(?:reply|replying|respond|text|txt|send|msg|responde|responda|envia|envie|manda|mande)"
    r"(?: with| back)? (?:stop|stopall|unsubscribe|end|quit|cancel|optout|alto|baja)\b"
    r"(?: (?:to|2|para) (?:opt out|optout|unsubscribe|stop|end|cancel|quit|cancelar|salir"
    r"|no recibir|dejar de recibir)\b(?: (?:more|mas|\w+ {0,1}){0,2})?)?"
)
_CUES = frozenset(
    [
        "stop",
        "quit",
        "unsubscribe",
        "remove",
        "opt",
        "optout",
        "alto",
        "baja",
        "basta",
        "cease",
        "texts",
        "texting",
        "messages",
        "messaging",
        "mensajes",
        "spam",
        "alone",
        "interested",
        "bother",
        "bothering",
        "list",
    ]
)


def opt_out_evidence(text: str) -> Evidence:
    """How strongly ``text`` says "stop texting me" (see the module's docstring)."""
    clauses = [_INSTRUCTION.sub(" ", _canonical_words(normalise(c))).strip() for c in _CLAUSE.split(text)]
    clauses = [c for c in clauses if c]
    whole = " ".join(clauses)
    words = [w for w in whole.split() if w not in _FILLER and not w.startswith("emoji")]
    if words and set(words) <= _WHOLE:
        return "explicit"
    if _EXPLICIT.search(whole) or any(_only_stop(c, len(clauses)) for c in clauses):
        return "explicit"
    if _GUARD.search(whole):
        return "guarded"
    return "cue" if _CUES & set(whole.split()) else "none"


def _only_stop(clause: str, count: int) -> bool:
    words = [w for w in clause.split() if w not in _FILLER and not w.startswith("emoji")]
    return count > 1 and bool(words) and set(words) <= _CLAUSE_ONLY


def _canonical_words(clause: str) -> str:
    return " ".join(canonical(w) for w in clause.split())


def canonical(word: str) -> str:
    """The opt-out key word ``word`` misspells (one letter off, or two swapped), else ``word``."""
    if word in _STOP_SPELLINGS:
        return "stop"
    if len(word) < 6 or word in _KEY_SET:
        return word
    for key in _KEY_WORDS:
        # one edit (six letters or more) keeps the first letter or the last: a cheap test first
        if (
            abs(len(key) - len(word)) <= 1
            and (key[0] == word[0] or key[-1] == word[-1])
            and _one_edit(word, key)
        ):
            return key
    return word


def _one_edit(a: str, b: str) -> bool:
    """Damerau-Levenshtein distance of ``a`` and ``b`` is at most one."""
    if a == b:
        return True
    if len(a) == len(b):
        diff = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
        if len(diff) == 1:
            return True
        return (
            len(diff) == 2
            and diff[1] == diff[0] + 1
            and a[diff[0]] == b[diff[1]]
            and a[diff[1]] == b[diff[0]]
        )
    short, long = (a, b) if len(a) < len(b) else (b, a)
    return any(long[:i] + long[i + 1 :] == short for i in range(len(long)))
