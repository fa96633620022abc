"""Helpers for the notice tests: an organizer talking HTTP, recipients known to both our
database and the WeChat sandbox, templates on both sides, and real RQ worker processes."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from models import MessageTemplate, SubscriptionGrant, Unit, WechatUser, db

ROOT = Path(__file__).resolve().parent.parent
WXA_TEMPLATE = "tpl-deadline"
MP_TEMPLATE = "tpl-mp-notice"
WXA_KEYS = {"thing1": "thing", "time2": "time", "thing3": "thing"}
WXA_FIELDS = {
    "thing1": {"label": "活动名称", "source": "campaign_title"},
    "time2": {"label": "截止时间", "source": "deadline"},
    "thing3": {"label": "温馨提示"},
}
MP_KEYS = {"thing1": "thing", "time2": "time"}
MP_FIELDS = {
    "thing1": {"label": "活动名称", "source": "campaign_title"},
    "time2": {"label": "截止时间", "source": "deadline"},
}


def add_templates(campaign, sandbox, settings, purpose: str = "general") -> tuple:
    """The subscribe template and the official-account template, on both sides."""
    sandbox.state.add_template(settings.wxa.appid, WXA_TEMPLATE, keys=WXA_KEYS)
    sandbox.state.add_template(settings.mp.appid, MP_TEMPLATE, keys=MP_KEYS)
    wxa = MessageTemplate.create(
        campaign=campaign,
        purpose=purpose,
        channel="wxa_subscribe",
        template_id=WXA_TEMPLATE,
        title="征集截止提醒",
        fields=WXA_FIELDS,
        page="pages/index/index",
    )
    mp = MessageTemplate.create(
        campaign=campaign,
        purpose=purpose,
        channel="mp_template",
        template_id=MP_TEMPLATE,
        title="活动通知",
        fields=MP_FIELDS,
    )
    return wxa, mp


def add_recipients(
    campaign, sandbox, settings, count: int, grant: bool = True, known: bool = True, prefix="o-r"
) -> list[WechatUser]:
    """Mini-program users each owning a unit (status no_entry); with a grant on both sides,
    unless told otherwise; `known=False` leaves them unknown to WeChat (40003)."""
    appid = settings.wxa.appid
    users = []
    with db.atomic():
        for n in range(count):
            user = WechatUser.create(app="wxa", openid=f"{prefix}{n:06d}")
            Unit.create(campaign=campaign, owner=user, name=f"单位{n}", region="福州市")
            if grant:
                SubscriptionGrant.create(user=user, template_id=WXA_TEMPLATE, remaining=1)
            users.append(user)
    for user in users:
        if known:
            sandbox.state.add_user(appid, user.openid)
            if grant:
                sandbox.state.answer_popup(appid, user.openid, {WXA_TEMPLATE: "accept"})
    return users


def notice_body(template, audience=None, **extra) -> dict:
    return {
        "title": "截止提醒",
        "template": template.id,
        "values": {"thing3": "请尽快提交案例"},
        "audience": audience or {"group": "units"},
        **extra,
    }


def sends_by_openid(sandbox) -> dict[str, int]:
    counts: dict[str, int] = {}
    for send in sandbox.state.sends():
        counts[send["openid"]] = counts.get(send["openid"], 0) + 1
    return counts


class WorkerProcesses:
    """Real `python -m cli.worker` processes, each in its own session so it can be killed
    with everything it forked (its work-horse has a process group of its own)."""

    def __init__(self, env: dict, log_dir: Path | None = None):
        self.env = env
        self.log_dir = log_dir
        self.processes: list[subprocess.Popen] = []

    def start(self, count: int = 1) -> None:
        for _ in range(count):
            name = f"worker-{len(self.processes)}.log"
            log_path = self.log_dir / name if self.log_dir else Path(os.devnull)
            with open(log_path, "ab") as log:
                self.processes.append(
                    subprocess.Popen(
                        [sys.executable, "-m", "cli.worker"],
                        cwd=ROOT,
                        env=self.env,
                        start_new_session=True,
                        stdout=log,
                        stderr=log,
                    )
                )

    def alive(self) -> list[subprocess.Popen]:
        return [p for p in self.processes if p.poll() is None]

    def kill(self, process: subprocess.Popen) -> None:
        """SIGKILL the worker's process group and the groups of its children (the horse)."""
        groups = {os.getpgid(process.pid)} if process.poll() is None else set()
        for child in children(process.pid):
            try:
                groups.add(os.getpgid(child))
            except ProcessLookupError:
                pass
        for group in groups:
            try:
                os.killpg(group, signal.SIGKILL)
            except ProcessLookupError:
                pass
        process.wait()

    def stop(self) -> None:
        for process in self.processes:
            self.kill(process)


def children(pid: int) -> list[int]:
    """Direct children of `pid`, from /proc."""
    return [child for child, parent in parent_pids().items() if parent == pid]


def parent_pids() -> dict[int, int]:
    """{pid: parent pid} of every process, from one pass over /proc."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        found[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    return found


def worker_env(settings, redis_url: str, **notice_settings: str) -> dict:
    """The environment a worker process needs to share this test's database, Redis and
    WeChat sandbox."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NOTICE_", "WECHAT_"))}
    env.update(
        APP_ENV="development",
        INSTANCE_DIR=str(settings.instance_dir),
        DATABASE_URL=settings.database_url,
        REDIS_URL=redis_url,
        WECHAT_API_BASE=settings.wechat_api_base,
        LOG_LEVEL="WARNING",
        RQ_WORKER_TTL="20",
        RQ_MAINTENANCE_INTERVAL="5",
        **notice_settings,
    )
    return env


def wait_for(predicate, timeout: float, interval: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()
