"""Reading an uploaded image's format from its content, for every upload check (visit photos, signatures,
evidence photos): one place that knows what Pillow can throw."""

import warnings

from PIL import Image, UnidentifiedImageError


class ImageTooLarge(Exception):
    """The image has more pixels than Pillow's decompression-bomb limit: refused before it is decoded."""

    def __init__(self):
        limit = Image.MAX_IMAGE_PIXELS or 0
        super().__init__(f"图片像素过多（超过 {limit // 10_000} 万像素），请缩小后再上传。")
        self.message = str(self)


def image_format(upload):
    """The format Pillow reads from `upload` ("JPEG", "PNG", …), or None when it is not an image it can read.

    Raises ImageTooLarge for a decompression bomb: one past Pillow's pixel limit (a warning, made an error here)
    as well as one past twice the limit (an error). The upload is left at its start."""
    try:
        upload.seek(0)
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(upload) as image:
                image_format = image.format
                image.verify()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageTooLarge from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        return None
    finally:
        upload.seek(0)
    return image_format
