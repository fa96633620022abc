"""The unit's journey on H5 through Flask's client: profile, entry, submit with every
problem next to its field, upload, return by the department, fix, resubmit, withdraw."""

import io
import re

from PIL import Image

from campaign.entries import status
from models import Attachment, Channel, Department, Entry, StatusChange, Unit, WechatUser
from tests.factories import COMPLETE, UNIT, Organizer, zi


def profile(phone, **changes):
    return phone.post("/h5/unit", {**UNIT, **changes})


def new_entry(phone, title="近邻党建激活社区治理") -> Entry:
    created = phone.post("/h5/entries", {"title": title})
    assert created.status_code == 303, created.get_data(as_text=True)
    return Entry.get_by_id(int(created.location.rsplit("/", 1)[1]))


def form_of(fields: dict) -> dict:
    data = {k: v for k, v in fields.items() if k != "themes"}
    return {**data, "themes": fields.get("themes", []), "themes_sent": "1"}


def big_upload(phone, entry_id: int, content: bytes, name: str):
    """Encoded here: the test client spools big bodies to a temp file it never closes."""
    from werkzeug.datastructures import FileStorage
    from werkzeug.test import encode_multipart

    form = {
        "kind": "photo",
        "csrf_token": phone.csrf,
        "file": FileStorage(io.BytesIO(content), name),
    }
    boundary, body = encode_multipart(form)
    return phone.client.post(
        f"/h5/entries/{entry_id}/evidence",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
    )


def photo_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), "red").save(out, "JPEG")
    return out.getvalue()


def test_profile_lists_every_problem_then_saves_and_masks_the_phone(phone):
    phone.sign_in("o-unit")
    refused = profile(phone, region="火星", contact_phone="123", name="")
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert html.count('class="problem"') == 3
    assert "选项无效" in html and "此项为必填项" in html and "请填写正确的手机号" in html
    assert profile(phone).status_code == 303
    page = phone.get("/h5/unit").get_data(as_text=True)
    assert "138****8000" in page and "13800138000" not in page
    assert profile(phone, contact_phone="").status_code == 303  # empty keeps the number
    assert Unit.get().contact_phone == "13800138000"


def test_submit_shows_every_problem_next_to_its_field_then_succeeds(phone):
    phone.sign_in("o-unit")
    profile(phone)
    entry = new_entry(phone)
    short = {**COMPLETE, "abstract": zi(10), "track": "", "themes": [], "results": ""}
    failed = phone.post(f"/h5/entries/{entry.id}", {**form_of(short), "action": "submit"})
    assert failed.status_code == 422
    html = failed.get_data(as_text=True)
    for field in ("track", "themes", "abstract", "results", "attachments"):
        assert f'id="problem-{field}"' in html, field
    assert "现 10 字" in html
    assert Entry.get_by_id(entry.id).abstract == zi(10)  # the draft was kept all the same
    upload = phone.post(
        f"/h5/entries/{entry.id}/evidence",
        {"kind": "photo", "file": (io.BytesIO(photo_bytes()), "现场.jpg")},
        content_type="multipart/form-data",
    )
    assert upload.status_code == 303, upload.get_data(as_text=True)
    assert Attachment.select().where(Attachment.entry == entry.id).count() == 1
    done = phone.post(f"/h5/entries/{entry.id}", {**form_of(COMPLETE), "action": "submit"})
    assert done.status_code == 303 and done.location.endswith("?done=submitted")
    assert Entry.get_by_id(entry.id).status == status.SUBMITTED
    progress = phone.get("/h5/progress").get_data(as_text=True)
    assert "已提交" in progress and COMPLETE["title"] in progress


def test_an_oversize_or_wrong_file_is_refused_next_to_the_upload(phone):
    phone.sign_in("o-unit")
    profile(phone)
    entry = new_entry(phone)
    page = phone.get(f"/h5/entries/{entry.id}").get_data(as_text=True)
    assert "图片最多 20 个、每个不超过 20MB" in page  # the limits, before any upload
    refused = phone.post(
        f"/h5/entries/{entry.id}/evidence",
        {"kind": "photo", "file": (io.BytesIO(b"not an image at all"), "a.jpg")},
        content_type="multipart/form-data",
    )
    assert refused.status_code == 422
    assert 'id="problem-evidence"' in refused.get_data(as_text=True)


def test_autosave_saves_a_draft_without_checking_it(phone):
    phone.sign_in("o-unit")
    profile(phone)
    entry = new_entry(phone)
    saved = phone.post(
        f"/h5/entries/{entry.id}/autosave",
        {"background": "2021年4月，福建省开展活动。"},
        headers={"X-CSRF-Token": phone.csrf, "Accept": "application/json"},
        csrf=False,
    )
    assert saved.status_code == 200
    assert saved.get_json()["counts"]["elements"]["background"] == 13
    assert Entry.get_by_id(entry.id).background == "2021年4月，福建省开展活动。"
    refused = phone.post(f"/h5/entries/{entry.id}/autosave", {"title": "x"}, csrf=False)
    assert refused.status_code == 403


def test_returned_with_the_reason_then_fixed_and_resubmitted_then_withdrawn(
    phone, client, open_window, run_jobs
):
    department = Department.create(
        campaign=open_window, name="福州市委组织部", route="org_dept", invite_code="inv-1"
    )
    Channel.create(campaign=open_window, department=department, route="org_dept", code="fz2345abcd")
    phone.sign_in("o-unit", code="fz2345abcd")
    profile(phone)
    entry = new_entry(phone)
    assert entry.department_id == department.id  # the first touch's department
    Attachment.create(entry=entry, kind="photo", storage_key="x", mime="image/jpeg", size=1)
    phone.post(f"/h5/entries/{entry.id}", {**form_of(COMPLETE), "action": "submit"})
    run_jobs()  # the content check, as after an API submit: the department sees it then
    # no mini-program identity to check the text with: an organizer reads it and releases it
    assert Entry.get_by_id(entry.id).content_check == "manual"
    organizer = Organizer(client, open_window)
    released = organizer.post(
        f"/api/v1/org/entries/{entry.id}/content-decision", json={"decision": "release"}
    )
    assert released.status_code == 200, released.get_json()
    member = WechatUser.create(app="mp", openid="o-member")
    from models import DepartmentMember

    DepartmentMember.create(department=department, user=member)
    from campaign.sessions import issue_token

    token, _ = issue_token(member)
    returned = client.post(
        f"/api/v1/dept/entries/{entry.id}/return",
        json={"comment": "请补充成效数据"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert returned.status_code == 200, returned.get_json()
    page = phone.get(f"/h5/entries/{entry.id}").get_data(as_text=True)
    assert "已退回" in page and "请补充成效数据" in page
    fixed = {**form_of(COMPLETE), "results": zi(850), "action": "submit"}
    assert phone.post(f"/h5/entries/{entry.id}", fixed).status_code == 303
    assert Entry.get_by_id(entry.id).status == status.SUBMITTED
    assert phone.post(f"/h5/entries/{entry.id}/withdraw").status_code == 303
    moves = [c.to_status for c in StatusChange.select().where(StatusChange.entry == entry.id)]
    assert moves == ["submitted", "returned", "submitted", "withdrawn"]


def test_one_units_session_never_reads_another_units_entry(phone, other_phone):
    phone.sign_in("o-unit-a")
    profile(phone)
    entry = new_entry(phone, "甲单位的案例")
    other_phone.sign_in("o-unit-b")
    profile(other_phone, name="乙单位")
    mine = other_phone.get(f"/h5/entries/{entry.id}")
    missing = other_phone.get("/h5/entries/999999")
    assert mine.status_code == missing.status_code == 404
    assert mine.data == missing.data
    for path in ("", "/autosave", "/withdraw", "/evidence"):
        answer = other_phone.post(f"/h5/entries/{entry.id}{path}", {"title": "改"})
        assert answer.status_code == 404, path
    assert "甲单位的案例" not in other_phone.get("/h5/progress").get_data(as_text=True)
    assert Entry.get_by_id(entry.id).title == "甲单位的案例"


def test_notices_consent_is_recorded_as_grants(phone, open_window):
    from models import MessageTemplate, SubscriptionGrant

    MessageTemplate.create(
        campaign=open_window, purpose="deadline", channel="wxa_subscribe",
        template_id="tmpl-deadline", title="截止提醒",
    )  # fmt: skip
    phone.sign_in("o-unit")
    page = phone.get("/h5/notices").get_data(as_text=True)
    assert "截止提醒" in page
    assert phone.post("/h5/notices", {"template": "tmpl-deadline"}).status_code == 303
    assert SubscriptionGrant.get(SubscriptionGrant.template_id == "tmpl-deadline").remaining == 1


def test_pages_are_mobile_first_and_load_nothing_from_elsewhere(phone):
    phone.sign_in("o-unit")
    profile(phone)
    entry = new_entry(phone)
    for path in ("/h5/", "/h5/home", "/h5/unit", "/h5/entries", f"/h5/entries/{entry.id}"):
        response = phone.get(path)
        html = response.get_data(as_text=True)
        assert 'name="viewport" content="width=device-width' in html, path
        assert "script-src 'self'" in response.headers["Content-Security-Policy"]
        assert not re.search(r'(src|href)="(https?:)?//', html), path
        assert "<script>" not in html, path  # no inline script: the CSP would block it
    served = phone.get("/h5/static/wordcount.js").get_data(as_text=True)
    from pathlib import Path

    assert served == (Path(__file__).parents[2] / "docs" / "wordcount.js").read_text()


def test_a_phone_sized_photo_passes_the_csrf_check_without_javascript(phone):
    """A 4 MB photo is above the app's 2 MB body cap: the H5 upload takes it all the same."""
    import os

    phone.sign_in("o-unit")
    profile(phone)
    entry = new_entry(phone)
    out = io.BytesIO()
    Image.frombytes("RGB", (1400, 1400), os.urandom(1400 * 1400 * 3)).save(out, "PNG")
    assert out.tell() > 2 * 1024 * 1024
    upload = big_upload(phone, entry.id, out.getvalue(), "大照片.png")
    assert upload.status_code == 303, upload.get_data(as_text=True)[:300]
    assert Attachment.select().where(Attachment.entry == entry.id).count() == 1


def test_an_upload_over_the_campaign_limit_gets_a_page_not_a_crash(phone, override_settings):
    phone.sign_in("o-unit")
    profile(phone)
    entry = new_entry(phone)
    override_settings(upload_max_mb=1)
    upload = big_upload(phone, entry.id, b"0" * (1024 * 1024 + 10), "a.jpg")
    assert upload.status_code == 413
    assert "文件过大，不能超过 1MB" in upload.get_data(as_text=True)


def test_after_the_deadline_a_late_code_reopens_the_entry(phone, open_window):
    import datetime

    from models import Campaign, LateCode, utcnow

    phone.sign_in("o-unit")
    profile(phone)
    entry = new_entry(phone)
    Attachment.create(entry=entry, kind="photo", storage_key="x", mime="image/jpeg", size=1)
    phone.post(f"/h5/entries/{entry.id}", {**form_of(COMPLETE), "action": "save"})
    past = utcnow() - datetime.timedelta(days=1)
    Campaign.update(closes_at=past).where(Campaign.id == open_window.id).execute()
    page = phone.get(f"/h5/entries/{entry.id}").get_data(as_text=True)
    assert 'id="entry-form"' not in page and "使用补报码提交" in page
    refused = phone.post(f"/h5/entries/{entry.id}", {**form_of(COMPLETE), "action": "submit"})
    assert refused.status_code == 409
    LateCode.create(
        campaign=open_window, code="LATE-0001", created_by="test",
        expires_at=utcnow() + datetime.timedelta(days=3),
    )  # fmt: skip
    wrong = phone.post(f"/h5/entries/{entry.id}", {"late_code": "NOPE", "action": "submit"})
    assert wrong.status_code == 422
    assert 'id="problem-late_code"' in wrong.get_data(as_text=True)
    done = phone.post(f"/h5/entries/{entry.id}", {"late_code": "LATE-0001", "action": "submit"})
    assert done.status_code == 303, done.get_data(as_text=True)
    assert "late_code=LATE-0001" in done.location
    assert Entry.get_by_id(entry.id).status == status.SUBMITTED
    assert LateCode.get().uses == 1


def test_status_words_for_each_stage(phone, open_window):
    """Endorsed, under review and awarded read as such on /h5/progress."""
    phone.sign_in("o-stages")
    phone.post("/h5/unit", UNIT)
    phone.post("/h5/entries", {"title": "一路走到入选"})
    entry = Entry.get()
    for target in (status.SUBMITTED, status.ENDORSED, status.UNDER_REVIEW):
        entry = status.move(entry, target, "test")
    page = phone.get("/h5/progress").get_data(as_text=True)
    assert "推荐单位已推荐" in page and "进入专家评审" in page and "评审中" in page
    for target in (status.SHORTLISTED, status.AWARDED):
        entry = status.move(entry, target, "test")
    page = phone.get("/h5/progress").get_data(as_text=True)
    assert "已入围" in page and "已入选" in page
