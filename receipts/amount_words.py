"""人民币大写: an amount in Chinese capital numerals, as banks print it on receipts and cheques
(中国人民银行《正确填写票据和结算凭证的基本规定》): 1005.30 -> 壹仟零伍元叁角整, 100000 -> 壹拾万元整,
0.05 -> 伍分, 1234.05 -> 壹仟贰佰叁拾肆元零伍分.

The rules, in the order the code applies them:
- yuan in sections of four digits (个, 万) and of eight (亿), so 10^12 reads 壹万亿 and
  1,000,500,000,000 reads 壹万零伍亿; 拾 keeps its 壹 (壹拾万, never 拾万);
- one 零 for any run of zeros between two digits that are written, inside a section or across
  sections (壹亿零壹万零壹元); none at the end of the yuan (壹仟元, not 壹仟零元);
- 元 after the yuan (none when there are none: 伍分), then 角 and 分; a yuan amount followed by
  fen without jiao takes a 零 (壹元零壹分);
- 整 after 元 or 角, never after 分.
The caller prefixes 人民币 where the layout wants it."""
from decimal import ROUND_HALF_UP, Decimal

DIGITS = "零壹贰叁肆伍陆柒捌玖"
_UNITS = ("仟", "佰", "拾", "")  # within a section of four digits, most significant first
LIMIT = Decimal("9999999999999999.99")  # below 10^16 yuan (the sections stop at 万亿)


def amount_in_words(value) -> str:
    """The capital form of `value` (a Decimal, or a str of one), rounded half up to the fen."""
    value = Decimal(value).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    if value < 0:
        return "负" + amount_in_words(-value)
    if value > LIMIT:
        raise ValueError(f"{value} is too large to write in capitals")
    yuan = int(value)
    jiao, fen = divmod(int((value - yuan) * 100), 10)
    words = _integer(yuan) + "元" if yuan else ""
    if not jiao and not fen:
        return (words or "零元") + "整"
    if jiao:
        words += DIGITS[jiao] + "角"
    elif yuan:
        words += "零"  # 壹元零壹分: the missing jiao is read
    return words + (DIGITS[fen] + "分" if fen else "整")


def _integer(n: int) -> str:
    """A positive integer below 10^16 in capitals, with the 零 of the gaps."""
    high, low = divmod(n, 10**8)
    if high:
        return _join(_integer(high) + "亿", low, 10**7)
    high, low = divmod(n, 10**4)
    if high:
        return _join(_section(high) + "万", low, 10**3)
    return _section(n)


def _join(head: str, low: int, lead: int) -> str:
    """`head` (ending in 亿 or 万) and the lower part, with a 零 when the lower part leaves its
    leading place empty (壹万零伍佰, 壹亿零壹万); a section's own trailing zeros are not read
    (壹仟万壹仟)."""
    if not low:
        return head
    return head + ("零" if low < lead else "") + _integer(low)


def _section(n: int) -> str:
    """1..9999: digits with their units, one 零 for the zeros between digits."""
    out = ""
    pending_zero = False
    for digit, unit in zip(f"{n:04d}", _UNITS, strict=True):
        if digit == "0":
            pending_zero = bool(out)
            continue
        if pending_zero:
            out += "零"
            pending_zero = False
        out += DIGITS[int(digit)] + unit
    return out
