"""The all-departments kit ZIP is streamed: written to a scratch file member by member, each
stored file copied in chunks, so a worker's memory does not grow with the archive (1,000
departments make a ZIP of hundreds of MB) nor with its largest file."""

import os
import tracemalloc
import zipfile

from campaign.channels import assets as codes
from campaign.channels.departments import create_department
from models import KitArchive
from storage import get_storage
from tasks.qrcodes import build_kit, request_kit

DEPARTMENTS = 4
BIG_FILE = 6 * 2**20  # one poster PNG per channel far larger than the memory bound below
SMALL_FILE = 64 * 2**10
MEMORY_BOUND = 4 * 2**20  # measured: 2.5 MB, whatever the file and archive sizes


def test_the_all_departments_zip_never_holds_a_file_or_the_archive_in_memory(campaign, app):
    storage = get_storage()
    for n in range(DEPARTMENTS):
        _, channel = create_department(campaign, {"name": f"部门{n}", "route": "org_dept"}, "t")
        for kind in codes.LOCAL_KINDS:  # ready files: the kit job draws nothing
            size = BIG_FILE if kind == "poster_png" else SMALL_FILE
            codes.store_asset(
                channel.id, kind, os.urandom(size), codes.KINDS[kind].extension, storage
            )
    kit = request_kit(campaign.id, None, "test")

    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        assert build_kit(kit.id) == "ready"
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    kit = KitArchive.get_by_id(kit.id)
    assert kit.size > DEPARTMENTS * BIG_FILE  # random bytes do not compress
    assert peak < MEMORY_BOUND, f"peak {peak / 2**20:.1f} MB for a {kit.size / 2**20:.0f} MB ZIP"
    with storage.open(kit.storage_key) as stream, zipfile.ZipFile(stream) as archive:
        assert archive.testzip() is None
        posters = [info for info in archive.infolist() if info.filename.endswith("海报.png")]
        assert len(posters) == DEPARTMENTS and {p.file_size for p in posters} == {BIG_FILE}
