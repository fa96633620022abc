"""The scan endpoints the mailroom and the door pages share (`pages/static/console/scanner.js`
calls them): one scan, or the scans a page queued while offline, answered one by one.

They are the API's `/api/v1/org/redeem` for a cookie-signed console: the same checks
(`check_scan`), the same engine (`engine.redeem_batch`) and the same answer shape (`answer`),
so a replayed nonce answers the same and nothing counts twice. A page scans only its own kind:
the mailroom refuses a ticket, the door of one session refuses another session's ticket,
before anything is recorded.
"""

from flask import jsonify

from api.errors import ApiError
from api.org.redeem import MAX_BATCH, answer, check_scan
from api.payload import json_object
from campaign.redeem import engine
from pages.console.layout import account, actor, campaign_or_404

MISPLACED = {
    "mailin": ("not_a_cover", "这不是入选材料封面上的二维码或编码"),
    "ticket": ("not_a_ticket", "这不是线下交流的参会票据"),
}
OTHER_SESSION = ("other_session", "该票据属于另一场次：{session}")


def scan_one(kind: str, belongs=None):
    """One scan `{code, nonce, datetime?, force?}` → its result (200, the status inside)."""
    data = json_object()
    campaign = campaign_or_404()
    _, problems = check_scan(data, campaign.timezone)
    if problems:
        raise ApiError(422, "validation_failed", "提交的内容未通过校验", problems)
    return jsonify(results(kind, [data], belongs)[0])


def scan_batch(kind: str, belongs=None):
    """`{"scans": [...]}` collected offline → `{"results": [...]}`, in order."""
    scans = json_object().get("scans")
    if not isinstance(scans, list) or not 1 <= len(scans) <= MAX_BATCH:
        field = {"field": "scans", "code": "invalid_type", "min": 1, "max": MAX_BATCH}
        raise ApiError(422, "validation_failed", f"请提交 1–{MAX_BATCH} 条扫码记录", [field])
    return jsonify(results=results(kind, scans, belongs))


def results(kind: str, scans: list, belongs=None) -> list[dict]:
    """Each scan's result. `belongs(target)` may refuse a target of the right kind with a
    (code, message) pair, e.g. a ticket of another session at this session's door."""
    campaign = campaign_or_404()
    out: list[dict | None] = []
    accepted, places, targets = [], [], {}
    for raw in scans:
        scan, problems = check_scan(raw, campaign.timezone)
        if problems:
            error = {"code": "validation_failed", "message": "扫码记录格式不正确"}
            out.append({"status": "error", "error": {**error, "fields": problems}})
            continue
        refusal, target = _placed(scan["code"], kind, campaign.id, belongs)
        if refusal:
            error = dict(zip(("code", "message"), refusal, strict=True))
            out.append({"status": "error", "nonce": scan["nonce"], "error": error})
            continue
        targets[scan["nonce"]] = target
        places.append(len(out))
        accepted.append(scan)
        out.append(None)
    who = account()
    outcomes = engine.redeem_batch(
        accepted, actor(), campaign_id=campaign.id, actor_name=who.display_name or ""
    )
    for place, scan, outcome in zip(places, accepted, outcomes, strict=True):
        result = {**answer(outcome, campaign.timezone), "nonce": scan["nonce"]}
        target = targets.get(scan["nonce"])
        result["object_id"] = target.object_id if target else None
        out[place] = result
    return out


def _placed(code: str, kind: str, campaign_id: int, belongs):
    """(refusal, target): a refusal when the code is of another kind or place; an unknown
    code passes (the engine answers `unknown_code` as the API does)."""
    try:
        target = engine.resolve(code, campaign_id)
    except engine.UnknownCode:
        return None, None
    if target.kind != kind:
        return MISPLACED[kind], target
    return (belongs(target) if belongs else None), target
