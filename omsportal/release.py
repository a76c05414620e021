"""A name for the code this process runs, for the content cache's KEY_PREFIX.

Cached pages link hashed static files and are rendered by this release's templates: a release
must never serve another's entries. Deployments may name the release
themselves (RELEASE, e.g. the git commit); otherwise it is a digest of the source files, the
same on every instance that runs the same code.
"""

import hashlib
from pathlib import Path

SOURCE_SUFFIXES = {".py", ".html", ".txt", ".css", ".js", ".svg"}
SKIPPED = {".git", ".venv", "var", "node_modules", "tests", "docs", "__pycache__", "media"}


def source_digest(root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(_source_files(root)):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def _source_files(folder: Path):
    for entry in folder.iterdir():
        if entry.is_dir():
            if entry.name not in SKIPPED and not entry.name.startswith("."):
                yield from _source_files(entry)
        elif entry.suffix in SOURCE_SUFFIXES:
            yield entry
