"""Did-you-mean hints for unknown names."""

from __future__ import annotations

from collections.abc import Iterable


def did_you_mean(name: str, candidates: Iterable[str], *, what: str = "") -> str | None:
    """A hint naming the closest candidate(s), or listing a few when none is close."""
    import difflib  # here: only an error needs it, and validate starts faster without

    options = sorted({str(c) for c in candidates})
    lowered = {o.lower(): o for o in options}
    close = (
        [lowered[name.lower()]]
        if name.lower() in lowered
        else difflib.get_close_matches(name, options, n=3, cutoff=0.6)
    )
    if close:
        return "did you mean " + " or ".join(f"'{c}'" for c in close) + "?"
    if options and len(options) <= 12:
        return f"known {what + ' ' if what else ''}names: " + ", ".join(options)
    return None
