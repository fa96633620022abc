"""Content security: the words and media the sandbox's msg_sec_check and media_check_async judge
risky, and the media-check jobs in flight.

Behind api_security.py and followups.py; the verdicts themselves are in moderation.py.
"""

from collections.abc import Iterable

from .state_area import Area


class SecurityState(Area):
    """What counts as risky, and each media_check_async job with how it ended."""

    def clear(self) -> None:
        """No risky words or media, no jobs (lock held)."""
        self._sec_words: tuple[tuple[str, ...], tuple[str, ...]] = ((), ())
        self._risky_media: frozenset[str] = frozenset()
        self._media_checks: list[dict] = []

    def set_sec_words(self, risky: Iterable[str] = (), review: Iterable[str] = ()) -> None:
        """Words that make msg_sec_check answer `risky` or `review`."""
        with self.world.lock:
            self._sec_words = (tuple(risky), tuple(review))

    def sec_words(self) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """(risky words, review words)."""
        with self.world.lock:
            return self._sec_words

    def set_risky_media(self, sha256s: Iterable[str]) -> None:
        """sha256 hex digests of media that media_check_async reports as `risky`."""
        with self.world.lock:
            self._risky_media = frozenset(digest.lower() for digest in sha256s)

    def risky_media(self) -> frozenset[str]:
        """The risky media digests."""
        with self.world.lock:
            return self._risky_media

    def add_media_check(self, entry: dict) -> None:
        """Track one media_check_async job; its entry is updated under `changing()`."""
        with self.world.changing():
            self._media_checks.append(entry)

    def media_checks(self) -> list[dict]:
        """The media_check_async jobs and how each ended."""
        with self.world.lock:
            return [dict(entry) for entry in self._media_checks]
