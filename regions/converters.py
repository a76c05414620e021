class RowId:
    """A row's id as the site writes it: ``/files/01/`` is no second address of ``/files/1/``.

    Django's ``int`` takes leading zeros, and a shared cache keys by the path as sent: each
    spelling was another copy of a download in nginx, and one the README's withdrawal of a
    file by its address did not remove.
    """

    regex = "[1-9][0-9]*"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)
