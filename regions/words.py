def counted(count: int, one: str, few: str, many: str) -> str:
    """«1 день», «3 дня», «5 дней»: the number with the Russian form it takes."""
    if count % 10 == 1 and count % 100 != 11:
        word = one
    elif count % 10 in (2, 3, 4) and count % 100 not in (12, 13, 14):
        word = few
    else:
        word = many
    return f"{count} {word}"
