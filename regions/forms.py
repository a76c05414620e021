"""Form fields shared by the apps' forms and admin."""

from django import forms


class LineBreaksField(forms.CharField):
    """Text with line breaks as the database keeps them (LF). Browsers send a textarea's line
    breaks as CR LF: counted twice against a length limit the browser itself counts once, and
    read as a change of every multi-line value on each admin save (a history entry for phones
    nobody touched, and an inline row saved over what an import had written meanwhile)."""

    def to_python(self, value):
        value = super().to_python(value)
        return value.replace("\r\n", "\n").replace("\r", "\n")
