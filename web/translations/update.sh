#!/bin/sh
# Refresh the English catalogue of the web UI. Run from anywhere, after adding or changing _('…') strings:
#
#     web/translations/update.sh
#
# The msgids are the Chinese texts; English is in web/translations/en/LC_MESSAGES/messages.po.
#   1. extract: every _()/gettext/N_ string in web/**.py and web/templates/**.html (see babel.cfg)
#      -> web/translations/messages.pot
#   2. update:  merge the template into en/LC_MESSAGES/messages.po (created on the first run). New strings
#      arrive with an empty msgstr; reworded ones may arrive "#, fuzzy" with a guessed translation.
#      Fill in the empty ones, check the fuzzy ones and delete their "#, fuzzy" line
#      (fuzzy and empty entries are NOT compiled: the page would stay in Chinese).
#   3. compile: en/LC_MESSAGES/messages.mo, which is committed so that `make run` needs no compile step.
#      After editing the .po, run this script again (or just the compile line) and commit .po AND .mo.
#
# tests/test_web_i18n.py fails, listing the strings, while a msgid lacks a translation or the .mo is stale.
# Strings translated from a variable (extraction cannot see them) go into dynamic_messages.py.
set -eu
cd "$(dirname "$0")/../.."
PYBABEL=${PYBABEL:-.venv/bin/pybabel}
DIR=web/translations
POT=$DIR/messages.pot

"$PYBABEL" extract -F babel.cfg -o "$POT" --add-comments=TRANSLATORS: \
    --project=Chuangzheng --copyright-holder=Chuangzheng --msgid-bugs-address= --sort-by-file --width=100 .
if [ -f "$DIR/en/LC_MESSAGES/messages.po" ]; then
    "$PYBABEL" update -i "$POT" -d "$DIR" -l en --ignore-obsolete --width=100
else
    "$PYBABEL" init -i "$POT" -d "$DIR" -l en --width=100
fi
"$PYBABEL" compile -d "$DIR" -l en --statistics
