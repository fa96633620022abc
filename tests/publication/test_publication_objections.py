"""Objections: real-name H5 form (rate-limited), staff entry, timeliness, ticket states."""

import datetime
import io

from models import AuditLog, Objection
from tasks.queue import redis_connection

PAST = {"starts_on": "2021-09-30"}  # 2021-09-30 … 2021-10-12
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def publish(organizer, **fields):
    response = organizer.post("/api/v1/org/publications", json={"kind": "final", **fields})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def now_open():
    today = datetime.datetime.now(datetime.UTC).date()
    return {"starts_on": str(today - datetime.timedelta(days=1)),
            "ends_on": str(today + datetime.timedelta(days=10))}  # fmt: skip


PERSON = {"filer_kind": "person", "name": "张三", "phone": "139 0000 1111",
          "content": "第1项案例成效数据与实际不符", "item": "1"}  # fmt: skip


def test_h5_form_takes_a_real_name_objection(seed, organizer, client):
    entry = seed.entry()
    published = publish(organizer, **now_open())
    form = client.get(f"/p/{published['id']}/objection")
    assert form.status_code == 200 and "实名" in form.get_data(as_text=True)
    assert "/objection" in client.get("/p/").get_data(as_text=True)  # the page links to it
    filed = client.post(f"/p/{published['id']}/objection", data=PERSON)
    assert filed.status_code == 201, filed.get_data(as_text=True)
    objection = Objection.get()
    assert (objection.entry_id, objection.received_via, objection.state) == (
        entry.id,
        "h5",
        "received",
    )
    assert objection.phone == "13900001111" and objection.timely
    audit = AuditLog.get(AuditLog.action == "objection.file")
    assert "13900001111" not in str(audit.after)  # the audit never copies the phone


def test_h5_form_lists_every_problem_beside_its_field(seed, organizer, client):
    seed.entry()
    published = publish(organizer, **now_open())
    path = f"/p/{published['id']}/objection"
    anonymous = client.post(path, data={"content": "有问题", "item": "99", "phone": "12345"})
    assert anonymous.status_code == 422
    html = anonymous.get_data(as_text=True)
    assert "异议须实名提出" in html and "名单中没有这个序号" in html and "正确的手机号" in html
    unit = client.post(path, data={**PERSON, "filer_kind": "unit", "unit_name": "某单位"})
    assert unit.status_code == 422 and "加盖单位公章" in unit.get_data(as_text=True)
    assert Objection.select().count() == 0


def test_a_unit_uploads_its_stamped_letter(seed, organizer, client):
    seed.entry()
    published = publish(organizer, **now_open())
    data = {**PERSON, "filer_kind": "unit", "unit_name": "某某单位",
            "letter": (io.BytesIO(PDF), "letter.pdf")}  # fmt: skip
    filed = client.post(f"/p/{published['id']}/objection", data=data)
    assert filed.status_code == 201, filed.get_data(as_text=True)
    objection = Objection.get()
    assert objection.letter_mime == "application/pdf"
    letter = organizer.get(f"/api/v1/org/publications/objections/{objection.id}/letter")
    assert letter.status_code == 200 and letter.data == PDF
    listed = organizer.get(f"/api/v1/org/publications/{published['id']}/objections").get_json()
    assert listed["items"][0]["has_letter"] and listed["items"][0]["unit_name"] == "某某单位"


def test_h5_form_is_closed_outside_the_window(seed, organizer, client):
    seed.entry()
    published = publish(organizer, **PAST)
    assert client.get(f"/p/{published['id']}/objection").status_code == 409
    assert client.post(f"/p/{published['id']}/objection", data=PERSON).status_code == 409
    assert "/objection" not in client.get("/p/").get_data(as_text=True)


def test_h5_form_is_rate_limited_per_address(seed, organizer, client):
    seed.entry()
    published = publish(organizer, **now_open())
    path = f"/p/{published['id']}/objection"
    answers = [
        client.post(path, data={**PERSON, "phone": f"1390000{n:04d}"}).status_code for n in range(7)
    ]
    assert answers == [201] * 5 + [429] * 2
    other = client.post(path, data=PERSON, environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert other.status_code == 201


def test_behind_nginx_each_client_address_has_its_own_count(seed, organizer, client):
    """nginx reaches the app from a private address (compose's network) and names the client
    in X-Real-IP, as for every other limit; a client elsewhere cannot pick its own count."""
    seed.entry()
    path = f"/p/{publish(organizer, **now_open())['id']}/objection"

    def post(n: int, client_ip: str, peer: str = "172.18.0.5") -> int:
        person = {**PERSON, "phone": f"1390000{n:04d}"}
        headers = {"X-Real-IP": client_ip}
        return client.post(path, data=person, headers=headers, environ_base={"REMOTE_ADDR": peer})

    assert [post(n, "203.0.113.7").status_code for n in range(6)] == [201] * 5 + [429]
    assert post(6, "203.0.113.8").status_code == 201
    forged = [post(n, f"198.51.100.{n}", peer="61.135.0.9").status_code for n in range(7, 13)]
    assert forged == [201] * 5 + [429]  # a public peer's own X-Real-IP is not believed
    keys = b" ".join(redis_connection().keys("limit:objection:*"))
    assert b"1390000" not in keys and b"203.0.113.7" in keys  # phones are hashed into keys


def test_a_letters_postmark_decides_timeliness(seed, organizer):
    seed.entry()
    published = publish(organizer, **PAST)
    path = f"/api/v1/org/publications/{published['id']}/objections"
    base = {"received_via": "letter", **PERSON}
    in_time = organizer.post(path, json={**base, "postmark_on": "2021-10-12"}).get_json()
    late = organizer.post(path, json={**base, "postmark_on": "2021-10-13"}).get_json()
    assert in_time["timely"] is True and late["timely"] is False  # both received years later
    missing = organizer.post(path, json=base)
    assert missing.status_code == 422
    assert missing.get_json()["error"]["fields"][0]["field"] == "postmark_on"
    phoned = organizer.post(path, json={**PERSON, "received_via": "phone"}).get_json()
    assert phoned["timely"] is False  # a call today is after the window


def test_an_anonymous_tip_is_closed_as_not_accepted(seed, organizer):
    seed.entry()
    published = publish(organizer, **PAST)
    tip = organizer.post(
        f"/api/v1/org/publications/{published['id']}/objections",
        json={"received_via": "phone", "filer_kind": "anonymous", "content": "听说有问题"},
    )
    assert tip.status_code == 201
    handle = f"/api/v1/org/publications/objections/{tip.get_json()['id']}/handle"
    closed = organizer.post(handle, json={"to": "not_accepted"}).get_json()
    assert closed["state"] == "not_accepted" and closed["state_label"] == "不予受理"
    assert closed["reply"] == "匿名线索不清，不予受理" and closed["replied_at"]
    again = organizer.post(handle, json={"to": "verifying"})
    assert again.status_code == 422


def test_tickets_move_only_along_their_states(seed, organizer):
    seed.entry()
    published = publish(organizer, **PAST)
    filed = organizer.post(
        f"/api/v1/org/publications/{published['id']}/objections",
        json={"received_via": "visit", **PERSON},
    ).get_json()
    handle = f"/api/v1/org/publications/objections/{filed['id']}/handle"
    skipped = organizer.post(handle, json={"to": "upheld", "reply": "x"})
    assert skipped.status_code == 422  # must be verified first
    organizer.post(handle, json={"to": "verifying", "handler": "纪检组 王某"})
    no_reply = organizer.post(handle, json={"to": "rejected"})
    assert no_reply.get_json()["error"]["fields"] == [
        {"field": "reply", "code": "required", "message": "此项为必填项"}
    ]
    withdrawn = organizer.post(handle, json={"to": "withdrawn"}).get_json()
    assert withdrawn["state"] == "withdrawn" and withdrawn["handler"] == "纪检组 王某"
    actions = [a.action for a in AuditLog.select().order_by(AuditLog.id)]
    assert actions[-3:] == ["objection.file", "objection.verifying", "objection.withdrawn"]


def test_the_mini_program_files_through_the_json_api(seed, organizer, client):
    seed.entry()
    published = publish(organizer, **now_open())
    path = f"/api/v1/publications/{published['id']}/objections"
    bad = client.post(path, json={"filer_kind": "anonymous", "content": ""})
    assert bad.status_code == 422
    assert {f["field"] for f in bad.get_json()["error"]["fields"]} == {"filer_kind", "content"}
    filed = client.post(path, json={**PERSON, "item": 1})
    assert filed.status_code == 201 and filed.get_json()["state"] == "received"
    assert "phone" not in filed.get_json()
    assert Objection.get_by_id(filed.get_json()["id"]).received_via == "h5"
    answers = [client.post(path, json={**PERSON, "phone": f"1380000{n:04d}"}).status_code
               for n in range(5)]  # fmt: skip
    assert answers == [201] * 3 + [429] * 2  # the address's 5 per 10 minutes, shared with H5
    assert client.post("/api/v1/publications/999999/objections", json=PERSON).status_code == 404


def test_an_oversized_letter_gets_a_page_not_a_json_error(seed, organizer, client):
    seed.entry()
    published = publish(organizer, **now_open())
    from werkzeug.datastructures import FileStorage
    from werkzeug.test import encode_multipart

    big = FileStorage(io.BytesIO(PDF + b"0" * (3 * 1024 * 1024)), "l.pdf", "letter")
    fields = {**PERSON, "filer_kind": "unit", "unit_name": "某单位", "letter": big}
    boundary, body = encode_multipart(fields)  # bytes: the client's spooled file is never left open
    response = client.post(
        f"/p/{published['id']}/objection",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
    )
    assert response.status_code == 413 and response.mimetype == "text/html"
    assert "超过 2MB" in response.get_data(as_text=True)
    assert Objection.select().count() == 0
