"""Extract the translatable strings of each app into its own catalogues.

Django's ``makemessages`` writes one catalogue per ``locale`` folder it finds, and only
looks at the files under the current directory. The project keeps most templates in the
top-level ``templates/<app>/`` folders, outside the apps. So, per app, this command lays
out a scratch directory of symlinks::

    <app>/             -> the app (its Python files and its own templates/)
    templates/<app>/   -> the project templates of that app
    templates/admin/   -> (backoffice only) every top-level template folder that is not
                          an app's, e.g. the admin overrides
    locale/            -> <app>/locale (created when missing)

and runs ``makemessages --symlinks`` there, so the app's catalogue holds exactly the
strings of its code and of its templates. Needs GNU gettext (``xgettext``, ``msgmerge``);
compiling the catalogues does not (``compile_translations``).

New or changed strings come out untranslated or ``#, fuzzy``: translate them, remove the
fuzzy flags, and ``tests/backoffice/test_translations.py`` checks that none is left.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.test.utils import override_settings

DEFAULT_LOCALES = ("pt_BR", "es")
# The app that owns the top-level template folders no app is named after.
KERNEL_APP = "backoffice"


def project_apps(base_dir: Path) -> list[str]:
    """Labels of the installed apps that live directly in the project root."""
    return [
        cfg.label
        for cfg in apps.get_app_configs()
        if Path(cfg.path).resolve().parent == base_dir.resolve()
    ]


def template_dirs(base_dir: Path, app: str, all_apps: list[str]) -> list[Path]:
    """The top-level ``templates/`` folders whose strings belong to ``app``."""
    root = base_dir / "templates"
    if not root.is_dir():
        return []
    found = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        owner = folder.name if folder.name in all_apps else KERNEL_APP
        if owner == app:
            found.append(folder)
    return found


def app_messages_update(
    *, base_dir: Path, app: str, all_apps: list[str], locales: list[str], verbosity: int = 0
) -> Path:
    """Run makemessages for one app (its code and its templates); returns its locale dir."""
    app_dir = base_dir / app
    locale_dir = app_dir / "locale"
    locale_dir.mkdir(exist_ok=True)
    cwd = Path.cwd()
    with tempfile.TemporaryDirectory(prefix=f"messages-{app}-") as tmp:
        scratch = Path(tmp)
        (scratch / app).symlink_to(app_dir, target_is_directory=True)
        (scratch / "locale").symlink_to(locale_dir, target_is_directory=True)
        folders = template_dirs(base_dir, app, all_apps)
        if folders:
            (scratch / "templates").mkdir()
            for folder in folders:
                (scratch / "templates" / folder.name).symlink_to(folder, target_is_directory=True)
        os.chdir(scratch)
        try:
            # No project-level LOCALE_PATHS: every string goes to the app's catalogue.
            with override_settings(LOCALE_PATHS=[]):
                call_command(
                    "makemessages",
                    locale=locales,
                    symlinks=True,
                    no_obsolete=True,
                    extensions=["html", "txt", "py"],
                    ignore_patterns=[f"{app}/locale", f"{app}/migrations"],
                    verbosity=verbosity,
                )
        finally:
            os.chdir(cwd)
    for locale in locales:
        header_fill(locale_dir / locale / "LC_MESSAGES" / "django.po", app=app, locale=locale)
    return locale_dir


def header_fill(po_path: Path, *, app: str, locale: str) -> None:
    """A catalogue makemessages just created has a fuzzy header (which gettext ignores,
    plural forms included) and no language: fill in what it misses."""
    if not po_path.exists():
        return
    text = po_path.read_text(encoding="utf-8")
    new = text.replace('#, fuzzy\nmsgid ""\nmsgstr ""\n', 'msgid ""\nmsgstr ""\n', 1)
    new = new.replace('"Language: \\n"', f'"Language: {locale}\\n"', 1)
    new = new.replace(
        '"Project-Id-Version: PACKAGE VERSION\\n"', f'"Project-Id-Version: Retaguarda {app}\\n"', 1
    )
    if new != text:
        po_path.write_text(new, encoding="utf-8")


class Command(BaseCommand):
    help = (
        "Update the apps' .po catalogues (pt_BR, es) from their code and their "
        "templates/<app>/ folders (needs GNU gettext)."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("apps", nargs="*", help="App labels (default: every project app).")
        parser.add_argument(
            "-l",
            "--locale",
            action="append",
            dest="locales",
            help="Locale to update, repeatable (default: pt_BR and es).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        base_dir = Path(settings.BASE_DIR)
        all_apps = project_apps(base_dir)
        wanted = options["apps"] or all_apps
        unknown = sorted(set(wanted) - set(all_apps))
        if unknown:
            raise CommandError(f"Not a project app: {', '.join(unknown)}")
        locales = options["locales"] or list(DEFAULT_LOCALES)
        for app in wanted:
            locale_dir = app_messages_update(
                base_dir=base_dir,
                app=app,
                all_apps=all_apps,
                locales=locales,
                verbosity=max(options["verbosity"] - 1, 0),
            )
            self.stdout.write(f"{app}: {locale_dir.relative_to(base_dir)} updated.")
        self.stdout.write("Translate the new entries, then run compile_translations.")
