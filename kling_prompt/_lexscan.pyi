"""Types of the compiled lexicon scan (source: ``kling_prompt/_native/lexscan.c``)."""

from collections.abc import Sequence

class Scanner:
    """Every word-led lexicon phrase in a trie."""

    def __init__(self, phrases: Sequence[str]) -> None: ...
    def split(self, text: str, /) -> list[str]:
        """The text cut at the phrase matches, as the lexicon's ``Pattern.split`` cuts it; a
        match written exactly as its phrase is the phrase object given to the constructor."""
    @property
    def node_count(self) -> int: ...

def runs_repeat(words: Sequence[object], size: int, /) -> bool:
    """Whether some run of ``size`` consecutive words occurs twice (``size`` at least 1)."""

def word_count(text: str, /) -> int:
    """``len(text.split())``, without making the words."""

def has_digit(text: str, /) -> bool:
    """Whether ``text`` holds a decimal digit (what ``\\d`` matches)."""

def gate_text(text: str, needles: tuple[str, ...], masks: tuple[int, ...], wanted: int, /) -> int:
    """The union of ``masks[i]`` over the ``needles[i]`` found in ``text`` whose mask shares a
    bit with ``wanted``."""
