"""Names people type (units, departments, channels, contacts, accounts), cleaned once.

A name is shown to other people: in lists, on posters, in WeChat messages, in exports.
Invisible characters in it mislead (a bidi override makes `txt.exe` read `exe.txt`; a
zero-width space makes two identical-looking departments different) or break things
downstream (NUL ends strings in C libraries and PostgreSQL refuses it). So names lose every
control (Cc), format (Cf: bidi overrides and isolates, zero-width characters, the BOM, soft
hyphens), surrogate and private-use character, and runs of whitespace become one space.
"""

import unicodedata

DROPPED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co"})


def clean_name(value: str) -> str:
    """`value` without invisible characters, whitespace collapsed, ends trimmed."""
    spaced = " ".join(value.split())  # newlines and tabs separate words: keep a space
    return "".join(c for c in spaced if unicodedata.category(c) not in DROPPED_CATEGORIES)
