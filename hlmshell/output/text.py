"""Small text helpers shared by every table writer."""


def abbrev(name: str, width: int = 12) -> str:
    """Stata's abbrev(): a name longer than its column keeps its start and last character
    around a `~` (`ln_price_metr` -> `ln_price_m~r` at 12, `displacement` -> `displa~t` at 8)."""
    if len(name) <= width:
        return name
    if width < 3:
        return name[:width]
    return name[: width - 2] + "~" + name[-1]


def wrap_words(text: str, width: int) -> list[str]:
    """Words packed into lines of at most `width` characters, a longer word cut (table
    titles and row headings that Stata wraps); [""] for no words."""
    lines: list[str] = []
    cur = ""
    for word in text.split():
        while len(word) > width:
            if cur:
                lines.append(cur)
                cur = ""
            lines.append(word[:width])
            word = word[width:]
        if cur and len(cur) + 1 + len(word) > width:
            lines.append(cur)
            cur = word
        else:
            cur = f"{cur} {word}" if cur else word
    if cur:
        lines.append(cur)
    return lines or [""]
