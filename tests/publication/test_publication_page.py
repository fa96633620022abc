"""The public page and its JSON: no PII, shareable, cacheable, served without the database."""

import io
import logging

from PIL import Image

from campaign.entries import status
from models import Publication, Unit

PAST = {"starts_on": "2021-09-30"}


def publish(organizer, kind="final", **fields):
    response = organizer.post("/api/v1/org/publications", json={"kind": kind, **fields})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_no_pii_ever_on_the_page_or_in_the_api(seed, organizer, client):
    entries = [seed.entry(), seed.entry(domain="soe", consent=False),
               seed.entry(to=status.SHORTLISTED)]  # fmt: skip
    final = publish(organizer, **PAST)
    shortlist = publish(organizer, kind="shortlist", **PAST)
    units = Unit.select().where(Unit.id.in_([e.unit_id for e in entries]))
    secrets = [u.contact_phone for u in units] + [u.contact_name for u in units]
    secrets.append(entries[1].unit.name)  # declined consent
    pages = [
        client.get("/p/"),
        client.get(f"/p/{shortlist['id']}"),
        client.get("/api/v1/publications/current"),
        client.get(f"/api/v1/publications/{shortlist['id']}"),
    ]
    ids = [p.id for p in Publication.select()]
    pages += [client.get(f"/api/v1/publications/{i}") for i in ids]
    pages += [client.get(f"/p/{i}") for i in ids]
    for response in pages:
        assert response.status_code == 200
        text = response.get_data(as_text=True)
        for secret in secrets:
            assert secret not in text, (response.request.path, secret)
        for word in ("score", '"phone"', "contact_phone", "contact_name", "openid", "分数"):
            assert word not in text
    assert entries[0].unit.name in client.get(f"/p/{final['id']}").get_data(as_text=True)


def test_page_is_mobile_first_and_shareable(seed, organizer, client):
    seed.entry()
    published = publish(organizer, **PAST)
    page = client.get("/p/")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and page.mimetype == "text/html"
    assert 'name="viewport"' in html and "<script" not in html
    share = f"https://campaign.example.cn/p/{published['id']}/share.png"
    assert f'<meta property="og:image" content="{share}">' in html
    assert 'property="og:title"' in html and 'name="description"' in html
    assert html.index(share) < html.index("<header>")  # WeChat takes the first body image
    assert "排名不分先后" in html and "新时代党建优秀案例" in html and "异议" in html
    image = client.get(f"/p/{published['id']}/share.png")
    assert image.mimetype == "image/png"
    assert Image.open(io.BytesIO(image.data)).size == (600, 600)


def test_etag_cache_control_and_not_modified(seed, organizer, client):
    seed.entry()
    publish(organizer, **PAST)
    for path in ("/p/", "/api/v1/publications/current"):
        first = client.get(path)
        assert first.headers["Cache-Control"] == "public, max-age=60"
        etag = first.headers["ETag"]
        again = client.get(path, headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.data == b""
        assert client.get(path, headers={"If-None-Match": '"other"'}).status_code == 200


def test_a_cache_hit_never_touches_the_database(seed, organizer, client, caplog):
    seed.entry()
    publish(organizer, **PAST)
    for path in ("/p/", "/api/v1/publications/current"):
        client.get(path)  # built once
    with caplog.at_level(logging.DEBUG, logger="peewee"):
        for path in ("/p/", "/api/v1/publications/current"):
            assert client.get(path).status_code == 200
    assert [r for r in caplog.records if r.name == "peewee"] == []
    with caplog.at_level(logging.DEBUG, logger="peewee"):  # the check above can fail
        Publication.select().count()
    assert [r for r in caplog.records if r.name == "peewee"]


def test_the_cache_is_rebuilt_when_the_publication_changes(seed, organizer, client):
    seed.entry()
    published = publish(organizer, **PAST)
    before = client.get("/api/v1/publications/current")
    assert before.get_json()["ends_on"] == "2021-10-12"
    path = f"/api/v1/org/publications/{published['id']}/window"
    assert organizer.put(path, json={"ends_on": "2021-10-20"}).status_code == 200
    after = client.get("/api/v1/publications/current")
    assert after.get_json()["ends_on"] == "2021-10-20"
    assert after.headers["ETag"] != before.headers["ETag"]
    assert "10月20日" in client.get("/p/").get_data(as_text=True)


def test_page_and_json_say_the_same(seed, organizer, client):
    for domain in ("rural", "urban", "soe"):
        seed.entry(domain=domain)
    publish(organizer, **PAST)
    data = client.get("/api/v1/publications/current").get_json()
    html = client.get("/p/").get_data(as_text=True)
    for item in data["items"]:
        assert item["title"] in html and item["unit"] in html and item["domain"]["label"] in html
    assert data["title"] in html


def test_nothing_published_yet(client, campaign):
    assert client.get("/p/").status_code == 404
    missing = client.get("/api/v1/publications/current")
    assert missing.status_code == 404
    assert missing.get_json()["error"]["code"] == "no_publication"
    assert client.get("/api/v1/publications/12345").status_code == 404
    from tasks import publication_cache

    assert publication_cache.peek("json:current") is not None  # "nothing yet" is kept
    assert publication_cache.peek("json:12345") is None  # made-up ids are never kept


def test_gzip_head_and_the_in_memory_path_answer_like_flask(seed, organizer, client):
    import gzip

    seed.entry()
    publish(organizer, **PAST)
    built = client.get("/p/")  # built by Flask, then kept in memory
    zipped = client.get("/p/", headers={"Accept-Encoding": "gzip, deflate"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(zipped.data) == built.data
    assert zipped.headers["ETag"] != built.headers["ETag"]
    assert zipped.headers["Vary"] == "Accept-Encoding"
    again = client.get("/p/", headers={"If-None-Match": built.headers["ETag"]})
    assert again.status_code == 304 and again.headers["X-Request-Id"]
    head = client.head("/p/")
    assert head.status_code == 200 and head.data == b""
    assert int(head.headers["Content-Length"]) == len(built.data)
    json_again = client.get("/api/v1/publications/current")
    assert json_again.get_json()["items"][0]["no"] == 1
    assert client.get("/p/?x=1").status_code == 200  # a query string goes through Flask
