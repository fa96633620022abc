"""The poster's own PNG writer (`drawing.qrdraw._png_up`): any decoder reads back exactly the
pixels that were drawn."""

import io
import random

from PIL import Image

from drawing.qrdraw import _png_up


def test_every_pixel_reads_back_unchanged():
    rng = random.Random(16)
    image = Image.new("RGB", (37, 23), (255, 255, 255))
    image.putdata([tuple(rng.randrange(256) for _ in range(3)) for _ in range(37 * 23)])
    decoded = Image.open(io.BytesIO(_png_up(image)))
    decoded.load()
    assert (decoded.mode, decoded.size) == ("RGB", (37, 23))
    assert decoded.tobytes() == image.tobytes()


def test_a_flat_poster_sized_page_stays_small_and_other_modes_are_converted():
    page = Image.new("RGB", (1191, 1684), (255, 255, 255))
    page.paste((193, 18, 31), (0, 0, 1191, 400))
    encoded = _png_up(page)
    assert len(encoded) < 60_000  # rows repeat: the Up filter turns them into zeros
    grey = Image.new("L", (5, 4), 90)
    assert Image.open(io.BytesIO(_png_up(grey))).convert("RGB").tobytes() == (
        grey.convert("RGB").tobytes()
    )
