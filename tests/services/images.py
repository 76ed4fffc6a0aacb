import io

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image


def image_file(name="photo.jpg", fmt="JPEG", size=(40, 30), content_type="image/jpeg"):
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 120, 40)).save(buffer, fmt)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type=content_type)
