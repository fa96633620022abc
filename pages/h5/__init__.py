"""`/h5/…`: the unit's journey in WeChat's browser, for anyone without the mini-program.

One parent blueprint: the cookie session, CSRF and security headers of `pages.websession`
(the console's mechanism, here holding a WeChat user), and the areas as child blueprints.
Every page calls the same `campaign/` rules and `api.access` ownership checks as
`api/unit/`: the signed-in WeChat user is put where `api.security.current_user` finds it.
"""

from flask import Blueprint, g, redirect, render_template, request
from werkzeug.exceptions import RequestEntityTooLarge

from api.errors import ApiError
from campaign.entries import status
from campaign.entries.evidence import MB
from campaign.problems import Invalid, Refused
from config import current_settings
from models import WechatUser
from pages import websession
from pages.h5 import entries, evidence, landing, notices, profile
from pages.h5.common import COOKIE_PATH, COOKIE_PREFIX, SignInNeeded, in_wechat

bp = Blueprint("h5", __name__, url_prefix="/h5", template_folder="../templates")


@bp.before_request
def _upload_cap():
    """A phone's photo is larger than the app's 2 MB body cap: the upload endpoint may take
    the campaign's upload size, raised here before the CSRF check reads the form."""
    if request.endpoint == "h5.evidence.upload" and request.mimetype == "multipart/form-data":
        request.max_content_length = current_settings().upload_max_mb * MB


websession.install(bp, prefix=COOKIE_PREFIX, path=COOKIE_PATH)  # after the cap: reads forms


@bp.before_request
def _who():
    holder = websession.holder()
    g.user = holder if isinstance(holder, WechatUser) else None  # what current_user() reads


@bp.app_context_processor
def _h5_context():
    if not request.path.startswith("/h5"):
        return {}
    return {
        "csrf_token": websession.csrf_token(),
        "me": g.get("user"),
        "entry_labels": status.LABELS,
    }


@bp.errorhandler(SignInNeeded)
def _sign_in(_error):
    """In WeChat, straight through OAuth and back to this page; elsewhere, the landing page
    (which explains how to open it in WeChat); the page script gets a JSON 401 and keeps
    the unsaved edits for after the new sign-in."""
    if request.accept_mimetypes.best == "application/json":
        from api.errors import error_response

        return error_response(401, "unauthorized", "登录已过期，请重新登录")
    if in_wechat() and request.method == "GET":
        return redirect(f"/wechat/oauth/start?next={request.path}")
    return redirect("/h5/?signin=1")


@bp.errorhandler(ApiError)
@bp.errorhandler(Refused)
def _refused(error):
    if error.status == 401:
        return redirect("/h5/?signin=1")
    if request.accept_mimetypes.best == "application/json":
        from api.errors import error_response

        return error_response(error.status, error.code, error.message, error.fields)
    page = render_template("h5/message.html", title="无法完成操作", message=error.message)
    return page, error.status


@bp.errorhandler(Invalid)
def _invalid(error: Invalid):
    """A rule's 422 outside a form that shows it at its fields: every problem, listed."""
    if request.accept_mimetypes.best == "application/json":
        from api.errors import error_response

        return error_response(422, error.code, error.message, error.problems)
    message = "；".join(item.get("message", "") for item in error.problems) or error.message
    page = render_template("h5/message.html", title="请修改后重试", message=message)
    return page, 422


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(_error):
    message = f"文件过大，不能超过 {current_settings().upload_max_mb}MB，请压缩后重新上传。"
    if request.accept_mimetypes.best == "application/json":
        from api.errors import error_response

        return error_response(413, "payload_too_large", message)
    return render_template("h5/message.html", title="无法上传", message=message), 413


for area in (landing, profile, entries, evidence, notices):
    bp.register_blueprint(area.bp)
