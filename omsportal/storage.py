"""The uploads' storage (STORAGES["default"]): Django's file system storage, except that a save
that fails part-way leaves nothing behind.

Django writes an upload straight under its final name: a disk that fills up in the middle (or a
quota, a file size limit) left a truncated file there that no row names, which backups then
kept. Here the bytes go to a file of this save's own beside the target, which takes the name
only once complete (a rename in the same directory: all or nothing), and is deleted on failure.
A process killed in the middle leaves its «.partial-…» file, which nothing names or serves:
`find var/media -name '.partial-*' -mmin +60 -delete` clears such leftovers.
"""

import contextlib
import errno
import os
import tempfile

from django.core.files import File
from django.core.files.storage import FileSystemStorage

PARTIAL_PREFIX = ".partial-"


class _Written(File):
    """The complete copy: Django's storage moves a file that has a path instead of copying it."""

    def __init__(self, path: str):
        super().__init__(None, name=path)
        self.path = path

    def temporary_file_path(self) -> str:
        return self.path


class MediaStorage(FileSystemStorage):
    def _save(self, name, content):
        directory = os.path.dirname(self.path(name))
        try:
            os.makedirs(directory, exist_ok=True)
        except FileExistsError:
            # A file where a folder must be: «File exists» would send whoever reads it looking
            # for the upload's name.
            raise NotADirectoryError(errno.ENOTDIR, "Not a directory", directory) from None
        handle, partial = tempfile.mkstemp(prefix=PARTIAL_PREFIX, dir=directory)
        try:
            with os.fdopen(handle, "wb") as out:
                for chunk in content.chunks():
                    out.write(chunk.encode() if isinstance(chunk, str) else chunk)
            return super()._save(name, _Written(partial))
        finally:
            # Gone once moved into place; after a failure, whatever part of it was written.
            with contextlib.suppress(FileNotFoundError):
                os.remove(partial)
