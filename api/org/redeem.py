"""The scan engine over HTTP: `POST /api/v1/org/redeem` for one scan, `/redeem/batch` for the
scans a phone collected offline (docs/mailroom-and-door.md).

One scan answers 200 `redeemed` (the same body again for the same nonce), 409
`already_redeemed` with the first scan's time and who, 409 for a refused object (a cancelled
ticket) unless `force`, 404 `unknown_code`. A batch answers 200 with one result per scan.
"""

from flask import Blueprint, jsonify

from api.access import open_campaign
from api.errors import ApiError
from api.payload import json_object
from api.security import console_actor, current_account, role_required
from campaign.clock import iso_local
from campaign.redeem import engine
from campaign.redeem.exchange import parse_moment

bp = Blueprint("org_redeem_api", __name__, url_prefix="/api/v1/org")

MAX_BATCH = 1000
UNKNOWN = ("unknown_code", "无法识别该二维码或编码，请核对后重试")
KIND_ACTIONS = {"ticket": "签到", "mailin": "签收"}


@bp.post("/redeem")
@role_required("organizer")
def redeem_one():
    campaign = open_campaign()
    scan, problems = check_scan(json_object(), campaign.timezone)
    if problems:
        raise ApiError(422, "validation_failed", "提交的内容未通过校验", problems)
    try:
        outcome = engine.redeem(
            scan["code"],
            scan["nonce"],
            scan["datetime"],
            console_actor(),
            scan["force"],
            campaign_id=campaign.id,
            actor_name=current_account().display_name,
        )
    except (engine.UnknownCode, engine.ScanRefused) as refusal:
        outcome = refusal
    result = answer(outcome, campaign.timezone)
    if result["status"] == engine.REDEEMED:
        return jsonify(result)
    if result["status"] == engine.ALREADY_REDEEMED:
        error = {"code": engine.ALREADY_REDEEMED, "message": result.pop("message"), "fields": []}
        return jsonify(error={**error, **result}), 409
    error = {**result["error"], "fields": []}
    return jsonify(error=error), 404 if error["code"] == UNKNOWN[0] else 409


@bp.post("/redeem/batch")
@role_required("organizer")
def redeem_batch():
    scans = json_object().get("scans")
    if not isinstance(scans, list) or not 1 <= len(scans) <= MAX_BATCH:
        field = {"field": "scans", "code": "invalid_type", "min": 1, "max": MAX_BATCH}
        raise ApiError(422, "validation_failed", f"请提交 1–{MAX_BATCH} 条扫码记录", [field])
    campaign = open_campaign()
    checked = [check_scan(raw, campaign.timezone) for raw in scans]
    valid = [scan for scan, problems in checked if not problems]
    outcomes = iter(
        engine.redeem_batch(
            valid,
            console_actor(),
            campaign_id=campaign.id,
            actor_name=current_account().display_name,
        )
    )
    results = []
    for raw, (scan, problems) in zip(scans, checked, strict=True):
        if problems:
            message = "扫码记录格式不正确"
            error = {"code": "validation_failed", "message": message, "fields": problems}
            results.append({"status": "error", "nonce": _nonce_of(raw), "error": error})
        else:
            outcome = next(outcomes)
            results.append({**answer(outcome, campaign.timezone), "nonce": scan["nonce"]})
    return jsonify(results=results)


def check_scan(data, timezone: str) -> tuple[dict, list]:
    """A clean scan `{code, nonce, datetime, force}` and every problem with it."""
    if not isinstance(data, dict):
        return {}, [{"field": "scan", "code": "invalid_type", "message": "格式不正确"}]
    problems = []
    for name, most in (("code", engine.MAX_CODE), ("nonce", 64)):
        value = data.get(name)
        if not isinstance(value, str) or not value.strip() or len(value) > most:
            problems.append({"field": name, "code": "required", "message": "此项为必填项"})
        elif name == "nonce" and not value.isprintable():
            message = "含有不可见字符"
            problems.append({"field": name, "code": "invalid_characters", "message": message})
    moment = None
    if data.get("datetime") is not None:
        moment = parse_moment(data["datetime"], timezone)
        if moment is None:
            message = "时间格式不正确"
            problems.append({"field": "datetime", "code": "invalid_datetime", "message": message})
    force = data.get("force", False)
    if not isinstance(force, bool):
        problems.append({"field": "force", "code": "invalid_type", "message": "格式不正确"})
    scan = {"code": data.get("code"), "nonce": data.get("nonce"), "datetime": moment}
    return {**scan, "force": force}, problems


def answer(outcome, timezone: str) -> dict:
    """What the engine said (an Answer, UnknownCode or ScanRefused) as a result: `status`
    redeemed | already_redeemed | error."""
    if isinstance(outcome, engine.UnknownCode):
        return {"status": "error", "error": dict(zip(("code", "message"), UNKNOWN, strict=True))}
    if isinstance(outcome, engine.ScanRefused):
        error = {"code": outcome.code, "message": outcome.message}
        return {"status": "error", "error": {**error, "object": outcome.target.label}}
    target, row = outcome.target, outcome.redemption
    scanned = _redemption(row, timezone)
    body = {"status": outcome.status, "kind": target.kind, "object": target.label}
    if outcome.status == engine.REDEEMED:
        return {**body, "redemption": scanned}
    action = KIND_ACTIONS.get(target.kind, "核销")
    who = row.by_name or row.by
    message = f"已于 {scanned['at'][:16].replace('T', ' ')} 由 {who} {action}，请勿重复{action}"
    return {**body, "first": scanned, "message": message}


def _redemption(row, timezone: str) -> dict:
    return {
        "id": row.id,
        "at": iso_local(row.scanned_at, timezone),
        "recorded_at": iso_local(row.recorded_at, timezone),
        "by": row.by,
        "by_name": row.by_name,
        "forced": row.forced,
    }


def _nonce_of(raw):
    nonce = raw.get("nonce") if isinstance(raw, dict) else None
    return nonce if isinstance(nonce, str) and len(nonce) <= 64 else None
