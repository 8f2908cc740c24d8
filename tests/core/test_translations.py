"""The Simplified Chinese catalogue is complete: every message in the sources has a
translation, none is fuzzy, and the compiled catalogue matches the .po file."""
import shutil
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.core.management import call_command

PO = Path(settings.BASE_DIR) / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"


@pytest.fixture
def fresh_catalogue(tmp_path, settings, monkeypatch):
    if shutil.which("xgettext") is None:
        pytest.skip("GNU gettext is not installed (apt-get install gettext); CI installs it")
    # makemessages writes into the locale folder nearest to the sources, so it runs in a
    # folder of links to the sources with its own copy of the catalogue: the repository's
    # catalogue is never touched by the test.
    base = Path(settings.BASE_DIR)
    for source in base.iterdir():
        if source.is_dir() and source.name not in {"locale", "tests", "bench", "jianguan_client", "static",
                                                  "staticfiles"} and not source.name.startswith("."):
            (tmp_path / source.name).symlink_to(source)
    target = tmp_path / "locale" / "zh_Hans" / "LC_MESSAGES"
    target.mkdir(parents=True)
    if PO.exists():
        shutil.copy(PO, target / "django.po")
    settings.LOCALE_PATHS = [str(tmp_path / "locale")]
    monkeypatch.chdir(tmp_path)
    call_command("makemessages", locale=["zh_Hans"], no_obsolete=True, verbosity=0, symlinks=True)
    return polib.pofile(str(target / "django.po"))


def test_every_message_is_translated_and_none_is_fuzzy(fresh_catalogue):
    untranslated = [e.msgid for e in fresh_catalogue.untranslated_entries()]
    fuzzy = [e.msgid for e in fresh_catalogue.fuzzy_entries()]
    assert not untranslated, f"{len(untranslated)} untranslated, e.g. {untranslated[:10]} (run bin/messages, translate)"
    assert not fuzzy, f"{len(fuzzy)} fuzzy, e.g. {fuzzy[:10]}"


def test_the_compiled_catalogue_matches_the_po_file():
    mo = PO.with_suffix(".mo")
    assert PO.exists() and mo.exists(), "run bin/messages"
    po_entries = {(e.msgctxt, e.msgid): e.msgstr for e in polib.pofile(str(PO)).translated_entries()
                  if not e.msgid_plural}
    mo_entries = {(e.msgctxt, e.msgid): e.msgstr for e in polib.mofile(str(mo)) if not e.msgid_plural}
    assert po_entries.items() <= mo_entries.items(), "the .mo is stale: run bin/messages"


def test_chinese_is_the_staff_default_and_renders(client, django_user_model):
    from django.utils import translation

    assert settings.LANGUAGES[0][0] == "zh-hans"
    with translation.override("zh-hans"):
        from django.utils.translation import gettext

        assert gettext("Merchants") != "Merchants"
