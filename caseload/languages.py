"""Language names and codes, normalised with `langcodes` so that "Arabic", "ar" and "ARA" are one language.

Coordinators type whatever their case management system exports: English names, ISO 639-1 or 639-3
codes, or tags with a region. The planner compares languages by their primary subtag (so a Dari
speaker, `fa-AF`, and a Persian speaker, `fa`, can be matched, as agencies do in practice).
"""

from __future__ import annotations

from functools import lru_cache

import langcodes


class UnknownLanguage(ValueError):
    """The text is neither an ISO 639 code nor a language name that langcodes recognises."""


@lru_cache(maxsize=4096)
def normalise_language(text: str) -> str:
    """Return the standard BCP 47 tag for a language code or English name, e.g. 'Tigrinya' -> 'ti'."""
    raw = text.strip()
    if not raw:
        raise UnknownLanguage("empty language")
    if langcodes.tag_is_valid(raw):
        lang = langcodes.Language.get(raw)
        if lang.is_valid() and lang.language and lang.language != "und":
            return lang.to_tag()
    try:
        found = langcodes.find(raw)
    except LookupError as exc:
        raise UnknownLanguage(f"unknown language {raw!r}") from exc
    return found.to_tag()


def primary(code: str) -> str:
    """The primary language subtag: 'fa-AF' -> 'fa'. Two languages match when these are equal."""
    return code.split("-", 1)[0].lower()


def language_name(code: str) -> str:
    """A readable English name for messages and the app ('ti' -> 'Tigrinya')."""
    try:
        return langcodes.Language.get(code).display_name()
    except (ValueError, LookupError):
        return code
