"""The callback's peer: a minimal Flask + wechatpy safe-mode handler, as wechatpy's docs
write it. It checks the signature, decrypts, parses, builds a text reply and encrypts it;
no de-dup, no storage, no request hooks. `bench.callback` serves it with the same gunicorn
config and the same load generator as the service's `/wechat/mp` (DESIGN §8).
"""

from flask import Flask, abort, request
from wechatpy import parse_message
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidAppIdException, InvalidSignatureException
from wechatpy.replies import create_reply
from wechatpy.utils import check_signature

from config import load_settings

MP = load_settings({}).mp  # the sandbox official account, as the bench's pushes use
REPLY = (
    "您好，欢迎参加党建品牌、优秀案例征集活动！回复“报名”获取报名入口，"
    "回复“进度”查看提交进度，回复“帮助”查看活动说明。"
)

app = Flask(__name__)


@app.route("/wechat/mp", methods=["POST"])
def wechat():
    args = request.args
    timestamp, nonce = args.get("timestamp", ""), args.get("nonce", "")
    try:
        check_signature(MP.token, args.get("signature", ""), timestamp, nonce)
    except InvalidSignatureException:
        abort(403)
    crypto = WeChatCrypto(MP.token, MP.aes_key, MP.appid)
    try:
        xml = crypto.decrypt_message(request.data, args.get("msg_signature", ""), timestamp, nonce)
    except (InvalidSignatureException, InvalidAppIdException):
        abort(403)
    message = parse_message(xml)
    reply = create_reply(REPLY, message)
    return crypto.encrypt_message(reply.render(), nonce, timestamp)


@app.get("/healthz")
def healthz():
    return "ok"
