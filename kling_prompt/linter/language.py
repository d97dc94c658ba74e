"""Offline language guess for short texts such as a quoted line of dialogue.

Non-Latin scripts decide by themselves (kana means Japanese even among kanji, Hangul means
Korean, Han alone means Chinese). Latin-script text is scored by stop words, which is reliable
for a sentence and says nothing for a single word, so the answer is ``None`` when the evidence is
thin: rules then stay silent rather than guess. Standard library only, no model, no network.
"""

from __future__ import annotations

from kling_prompt.linter.lazyre import LazyPattern, lazy

# Script ranges: (first code point, last code point, script name).
_RANGES: tuple[tuple[int, int, str], ...] = (
    (0x0041, 0x024F, "latin"),
    (0x0370, 0x03FF, "greek"),
    (0x0400, 0x052F, "cyrillic"),
    (0x0590, 0x05FF, "hebrew"),
    (0x0600, 0x06FF, "arabic"),
    (0x0750, 0x077F, "arabic"),
    (0x0900, 0x097F, "devanagari"),
    (0x0E00, 0x0E7F, "thai"),
    (0x1100, 0x11FF, "hangul"),
    (0x1E00, 0x1EFF, "latin"),
    (0x3040, 0x309F, "kana"),
    (0x30A0, 0x30FF, "kana"),
    (0x3130, 0x318F, "hangul"),
    (0x3400, 0x4DBF, "han"),
    (0x4E00, 0x9FFF, "han"),
    (0xAC00, 0xD7AF, "hangul"),
    (0xF900, 0xFAFF, "han"),
    (0xFF66, 0xFF9F, "kana"),
)

# A script that names one language by itself.
_SCRIPT_LANGUAGE = {
    "greek": "el",
    "cyrillic": "ru",
    "hebrew": "he",
    "arabic": "ar",
    "devanagari": "hi",
    "thai": "th",
    "hangul": "ko",
}

# Frequent function words that tell Latin-script languages apart. Words shared by several
# languages (``a``, ``de``, ``la``, ``que``) are left out or listed where they are most telling.
_STOP_WORDS: dict[str, frozenset[str]] = {
    "en": frozenset(
        [
            "the",
            "and",
            "is",
            "are",
            "was",
            "were",
            "you",
            "your",
            "i",
            "it",
            "to",
            "of",
            "in",
            "that",
            "this",
            "with",
            "for",
            "on",
            "my",
            "me",
            "we",
            "be",
            "have",
            "has",
            "not",
            "do",
            "don't",
            "it's",
            "i'm",
            "what",
            "where",
            "who",
            "how",
            "all",
            "just",
            "so",
            "can",
            "will",
            "at",
            "they",
            "he",
            "she",
            "his",
            "her",
            "our",
            "from",
            "there",
            "here",
            "now",
            "yes",
            "no",
        ]
    ),
    "es": frozenset(
        [
            "el",
            "los",
            "las",
            "del",
            "que",
            "y",
            "es",
            "está",
            "están",
            "un",
            "una",
            "por",
            "para",
            "con",
            "mi",
            "tu",
            "su",
            "no",
            "sí",
            "pero",
            "muy",
            "como",
            "qué",
            "dónde",
            "yo",
            "tú",
            "usted",
            "nosotros",
            "estoy",
            "eres",
            "somos",
            "hay",
            "hola",
            "gracias",
            "también",
            "porque",
            "cuando",
            "todo",
            "ahora",
            "aquí",
        ]
    ),
    "fr": frozenset(
        [
            "le",
            "les",
            "des",
            "du",
            "et",
            "est",
            "une",
            "un",
            "je",
            "tu",
            "il",
            "elle",
            "nous",
            "vous",
            "ils",
            "pas",
            "ne",
            "que",
            "qui",
            "dans",
            "pour",
            "avec",
            "sur",
            "mon",
            "ma",
            "mes",
            "ton",
            "ta",
            "c'est",
            "je",
            "suis",
            "oui",
            "non",
            "mais",
            "très",
            "bonjour",
            "merci",
            "aussi",
            "où",
            "quand",
            "tout",
            "ici",
        ]
    ),
    "de": frozenset(
        [
            "der",
            "die",
            "das",
            "und",
            "ist",
            "sind",
            "ein",
            "eine",
            "ich",
            "du",
            "er",
            "sie",
            "wir",
            "ihr",
            "nicht",
            "mit",
            "für",
            "auf",
            "den",
            "dem",
            "zu",
            "von",
            "ja",
            "nein",
            "aber",
            "sehr",
            "wie",
            "was",
            "wo",
            "bin",
            "bist",
            "hier",
            "jetzt",
            "auch",
            "noch",
            "danke",
        ]
    ),
    "pt": frozenset(
        [
            "o",
            "os",
            "as",
            "do",
            "da",
            "dos",
            "das",
            "que",
            "e",
            "é",
            "um",
            "uma",
            "não",
            "sim",
            "com",
            "para",
            "por",
            "meu",
            "minha",
            "você",
            "eu",
            "nós",
            "está",
            "estão",
            "muito",
            "mas",
            "como",
            "onde",
            "obrigado",
            "obrigada",
            "também",
            "aqui",
            "agora",
            "isso",
        ]
    ),
    "it": frozenset(
        [
            "il",
            "lo",
            "gli",
            "della",
            "che",
            "e",
            "è",
            "un",
            "una",
            "non",
            "sì",
            "con",
            "per",
            "mio",
            "mia",
            "tu",
            "io",
            "noi",
            "sono",
            "sei",
            "ciao",
            "grazie",
            "anche",
            "molto",
            "ma",
            "come",
            "dove",
            "questo",
            "qui",
            "adesso",
            "perché",
        ]
    ),
    "nl": frozenset(
        [
            "de",
            "het",
            "een",
            "en",
            "is",
            "zijn",
            "ik",
            "jij",
            "je",
            "wij",
            "niet",
            "met",
            "voor",
            "op",
            "van",
            "dat",
            "wat",
            "waar",
            "hier",
            "nu",
            "ook",
            "maar",
            "heel",
            "dank",
            "ja",
            "nee",
        ]
    ),
}

_LANGUAGES_OF: dict[str, tuple[str, ...]] = {}
for _lang, _words in _STOP_WORDS.items():
    for _word in _words:
        _LANGUAGES_OF[_word] = (*_LANGUAGES_OF.get(_word, ()), _lang)

_LATIN_WORD = lazy(r"[a-zà-öø-ÿœ]+(?:['’][a-zà-öø-ÿœ]+)?")
# Letters that only some Latin-script languages use.
_MARKERS = {"ñ": "es", "¿": "es", "¡": "es", "ß": "de", "ã": "pt", "õ": "pt", "ç": "fr"}


def script_of(ch: str) -> str | None:
    """The script of one character, or ``None`` for digits, punctuation and unknown scripts."""
    code = ord(ch)
    if code < 0x41:
        return None
    for first, last, name in _RANGES:
        if first <= code <= last:
            if name == "latin" and not ch.isalpha():
                return None
            return name
    return None


def _class(name: str) -> LazyPattern:
    spans = "".join(f"\\U{first:08x}-\\U{last:08x}" for first, last, n in _RANGES if n == name)
    return lazy(f"[{spans}]")


_SCRIPT_PATTERNS = {name: _class(name) for name in dict.fromkeys(n for _, _, n in _RANGES)}
_NON_LATIN = lazy(r"[^\x00-\u024f\u1e00-\u1eff\u2000-\u206f\u3000-\u303f\uff00-\uff65]")


def script_counts(text: str) -> dict[str, int]:
    """How many letters of each script the text holds."""
    counts: dict[str, int] = {}
    scripts = _SCRIPT_PATTERNS if _NON_LATIN.search(text) else {"latin": _SCRIPT_PATTERNS["latin"]}
    for name, pattern in scripts.items():
        found = len(pattern.findall(text))
        if name == "latin" and found:
            found = sum(1 for ch in pattern.findall(text) if ch.isalpha())
        if found:
            counts[name] = found
    return counts


def detect_language(text: str, *, min_words: int = 3) -> str | None:
    """A two-letter guess of the language of ``text``, or ``None`` when it cannot tell.

    Latin-script text needs at least ``min_words`` words and at least two stop words of the
    winning language (one is enough for a short line when no other language scores).
    """
    if _NON_LATIN.search(text) is None:
        return _latin_language(text, min_words)
    counts = script_counts(text)
    if not counts:
        return None
    script = max(counts, key=lambda k: counts[k])
    total = sum(counts.values())
    if counts.get("kana", 0) and counts.get("kana", 0) + counts.get("han", 0) >= total / 2:
        return "ja"
    if script == "han":
        return "zh"
    if script in _SCRIPT_LANGUAGE:
        return _SCRIPT_LANGUAGE[script]
    if script != "latin":
        return None
    return _latin_language(text, min_words)


def _latin_language(text: str, min_words: int) -> str | None:
    """Stop-word vote among Latin-script languages; ``None`` when the vote is thin or tied."""
    lower = text.lower()
    words = _LATIN_WORD.findall(lower)
    if len(words) < min_words:
        return None
    scores = dict.fromkeys(_STOP_WORDS, 0)
    for word in words:
        for lang in _LANGUAGES_OF.get(word, ()):
            scores[lang] += 1
    for mark, lang in _MARKERS.items():
        if mark in lower:
            scores[lang] += 2
    ranked = sorted(scores.items(), key=lambda kv: kv[1], reverse=True)
    best, best_score = ranked[0]
    runner_up = ranked[1][1]
    if best_score == 0 or best_score == runner_up:
        return None
    if best_score < 2 and (runner_up > 0 or len(words) > 6):
        return None
    return best
