"""Small text helpers shared by every table writer."""


def abbrev(name: str, width: int = 12) -> str:
    """Stata's abbrev(): a name longer than its column keeps its start and last character
    around a `~` (`ln_price_metr` -> `ln_price_m~r` at 12, `displacement` -> `displa~t` at 8)."""
    if len(name) <= width:
        return name
    if width < 3:
        return name[:width]
    return name[: width - 2] + "~" + name[-1]
