"""Content-security verdicts for msg_sec_check and media_check_async.

The sandbox cannot judge content, so tests declare what is bad: text containing a word from
the risky list is `risky`, from the review list `review`, else `pass`; media is `risky` when
the sha256 of its bytes is listed. Labels follow WeChat's table (100 normal, 20001 politics
for risky, 21000 other for review).
"""

from dataclasses import dataclass

LABEL_PASS = 100
LABEL_RISKY = 20001
LABEL_REVIEW = 21000


@dataclass(frozen=True)
class Verdict:
    """WeChat's `result`, and the listed word that caused it."""

    suggest: str
    label: int
    keyword: str | None = None


def judge_text(content: str, risky: tuple[str, ...], review: tuple[str, ...]) -> Verdict:
    """risky beats review beats pass."""
    for words, suggest, label in ((risky, "risky", LABEL_RISKY), (review, "review", LABEL_REVIEW)):
        keyword = next((word for word in words if word and word in content), None)
        if keyword:
            return Verdict(suggest, label, keyword)
    return Verdict("pass", LABEL_PASS)


def judge_media(sha256: str, risky_digests: frozenset[str]) -> Verdict:
    """risky when the digest is listed, else pass."""
    if sha256 in risky_digests:
        return Verdict("risky", LABEL_RISKY)
    return Verdict("pass", LABEL_PASS)


def text_check_fields(verdict: Verdict, trace_id: str) -> dict:
    """The msg_sec_check v2 reply fields after errcode and errmsg."""
    detail = {"strategy": "content_model", "errcode": 0, "suggest": verdict.suggest}
    detail.update(label=verdict.label, prob=90)
    if verdict.keyword:
        detail["keyword"] = verdict.keyword
    return {
        "result": {"suggest": verdict.suggest, "label": verdict.label},
        "detail": [detail],
        "trace_id": trace_id,
    }
