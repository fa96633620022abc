"""The casebook job for 300 winning cases (BENCH_CASEBOOK_CASES), each with a 250-character
abstract, ~4,000 characters in its four elements and two distinct photos (BENCH_CASEBOOK_PHOTOS):
the build's wall time and the builder process's peak memory (docs/casebook.md states the bound).

Seeding and building run in processes of their own, so the peak resident size measured is the
build's alone (Linux `ru_maxrss` of the child that ran `tasks.casebook.build_casebook`).
"""

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.stack import ROOT, environment

CASES = int(os.environ.get("BENCH_CASEBOOK_CASES", "300"))
PHOTOS = int(os.environ.get("BENCH_CASEBOOK_PHOTOS", "2"))
DOMAINS = ("rural", "urban", "soe", "non_public", "organs")
SENTENCE = "坚持党建引领，推动基层治理创新，把服务送到群众家门口，探索可复制可推广的经验。"


def main() -> dict:
    with tempfile.TemporaryDirectory() as workdir, environment(Path(workdir)) as env:
        _child(env, "seed")
        figures = _child(env, "build")
    per_case = figures["seconds"] / CASES * 1000
    print(f"casebook benchmark ({CASES} cases, {PHOTOS} photos each, SQLite, PDF then DOCX)")
    print(f"{'build (PDF + DOCX)':<30}{figures['seconds']:9.1f} s ({per_case:.0f} ms per case)")
    print(f"{'PDF':<30}{figures['pdf_mib']:9.1f} MiB, {figures['pages']} pages")
    print(f"{'DOCX':<30}{figures['docx_mib']:9.1f} MiB")
    print(f"{'builder peak memory (RSS)':<30}{figures['peak_mib']:9.0f} MiB")
    return figures


def _child(env: dict, step: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-m", "bench.casebook", step],
        env=env, cwd=ROOT, check=True, capture_output=True, text=True,
    )  # fmt: skip
    return json.loads(done.stdout.strip().splitlines()[-1])


def _seed() -> dict:
    """CASES winners (a tenth of them brands) across five domains, with unique photos."""
    import io

    from campaign.definition import current_campaign
    from models import Attachment, Decision, Entry, Unit, WechatUser, db
    from storage import get_storage

    storage = get_storage()
    with db.connection_context(), db.atomic():
        campaign = current_campaign()
        for number in range(CASES):
            owner = WechatUser.create(app="wxa", openid=f"o-book-{number}")
            unit = Unit.create(campaign=campaign, owner=owner, name=f"中共某某{number}号党支部",
                               region="福州市")  # fmt: skip
            award = "brand" if number % 10 == 0 else "case"
            body = SENTENCE * 26  # ~1,000 characters per element
            entry = Entry.create(
                campaign=campaign, unit=unit, owner=owner, route="online", track=award,
                domain=DOMAINS[number % len(DOMAINS)], status="awarded",
                title=f"第{number}号案例：近邻党建的探索与实践", abstract=SENTENCE * 6,
                background=body, approach=body, results=body, significance=body,
            )  # fmt: skip
            Decision.create(entry=entry, award=award, decided_by="bench")
            for _ in range(PHOTOS):
                out = io.BytesIO()
                photo = _photo(number)
                photo.save(out, "JPEG", quality=85)
                stored = storage.save(io.BytesIO(out.getvalue()), "jpg")
                Attachment.create(
                    entry=entry, kind="photo", storage_key=stored.key, mime="image/jpeg",
                    size=stored.size, check_status="pass",
                )  # fmt: skip
    return {"cases": CASES}


def _photo(seed: int):
    """A camera-like picture: smooth colour gradients with a little grain, unique per call."""
    from PIL import Image, ImageOps

    shade = Image.linear_gradient("L").resize((1600, 1200)).rotate(seed % 360, expand=False)
    picture = ImageOps.colorize(shade, (seed % 200, 60, 90), (240, 220, 180 - seed % 100))
    grain = Image.effect_noise((1600, 1200), 24).convert("RGB")
    return Image.blend(picture, grain, 0.12)


def _build() -> dict:
    import resource
    import time

    from pypdf import PdfReader

    from campaign.casebook.builds import request_build
    from campaign.definition import current_campaign
    from models import Casebook, db
    from storage import get_storage
    from tasks.casebook import build_casebook

    with db.connection_context():
        book = request_build(current_campaign(), {"photos_per_case": PHOTOS}, "bench")
    started = time.perf_counter()
    build_casebook(book.id)
    seconds = time.perf_counter() - started
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with db.connection_context():
        book = Casebook.get_by_id(book.id)
    with get_storage().open(book.pdf_key) as stream:
        pages = len(PdfReader(stream).pages)
    return {
        "seconds": seconds, "peak_mib": peak_kib / 1024, "pages": pages,
        "pdf_mib": book.pdf_size / 2**20, "docx_mib": book.docx_size / 2**20,
    }  # fmt: skip


if __name__ == "__main__":
    if len(sys.argv) == 1:
        main()
    else:  # a step, in a process of its own
        import runtime

        runtime.bootstrap()
        print(json.dumps({"seed": _seed, "build": _build}[sys.argv[1]]()))
