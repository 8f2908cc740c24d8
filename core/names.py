"""One comparison of people's and companies' names, wherever a name must match another: a bank
card's account name against the member (merchants), a statement line's payer against a verified
card (reconciliation).

Two names are the same when they are equal after: Unicode NFKC (full-width letters, digits,
brackets and the ideographic space become their ASCII forms: `（` → `(`), every middle-dot variant
read as `·` (阿卜杜·艾力 is written with several), all whitespace removed, and case folded. An
empty name matches nothing."""
import re
import unicodedata

_DOTS = str.maketrans({"\u30fb": "·", "\uff65": "·", "\u2022": "·", "\u2027": "·", "\u2219": "·", "\u22c5": "·"})
_SPACE = re.compile(r"\s+")


def name_key(name: str | None) -> str:
    text = unicodedata.normalize("NFKC", name or "").translate(_DOTS)
    return _SPACE.sub("", text).casefold()


def same_name(a: str | None, b: str | None) -> bool:
    key = name_key(a)
    return bool(key) and key == name_key(b)
