import io
import struct
import zlib

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image


def image_file(name="photo.jpg", fmt="JPEG", size=(40, 30), content_type="image/jpeg"):
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 120, 40)).save(buffer, fmt)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type=content_type)


def png_declaring(width, height, name="bomb.png"):
    """A tiny PNG file that declares `width` × `height` pixels (Pillow reads the size before any pixel): a
    decompression bomb without the memory."""

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    content = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
    return SimpleUploadedFile(name, content + chunk(b"IEND", b""), content_type="image/png")
