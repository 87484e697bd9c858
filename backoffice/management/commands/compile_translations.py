"""Compile the apps' ``.po`` catalogues into the ``.mo`` files Django reads.

Django's ``compilemessages`` needs GNU gettext (``msgfmt``), which a fresh machine with
only Python may not have; polib does the same in pure Python. The ``.mo`` files are
build output and are not committed: ``make run``, ``make test`` and the Docker image
run this command.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polib
from django.conf import settings
from django.core.management.base import BaseCommand


def catalogues(base_dir: Path) -> list[Path]:
    """Every ``<app>/locale/<lang>/LC_MESSAGES/*.po`` under the project root."""
    return sorted(
        p
        for p in base_dir.glob("*/locale/*/LC_MESSAGES/*.po")
        if not p.is_relative_to(base_dir / ".venv")
    )


def translations_compile(base_dir: Path, *, force: bool = False) -> list[Path]:
    """Write each catalogue's ``.mo`` when missing or older than the ``.po``; returns
    the files written."""
    written = []
    for po_path in catalogues(base_dir):
        mo_path = po_path.with_suffix(".mo")
        if not force and mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        polib.pofile(str(po_path)).save_as_mofile(str(mo_path))
        written.append(mo_path)
    return written


class Command(BaseCommand):
    help = "Compile translation catalogues (.po -> .mo) without GNU gettext."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--force", action="store_true", help="Rewrite every .mo file.")

    def handle(self, *args: Any, **options: Any) -> None:
        written = translations_compile(Path(settings.BASE_DIR), force=options["force"])
        self.stdout.write(f"{len(written)} catalogue(s) compiled.")
