"""Checks on uploaded evidence: photos are real JPEG/PNG images of a sensible size."""

from django.core.exceptions import ValidationError

from shenxian_care.images import ImageTooLarge, image_format

MAX_PHOTO_BYTES = 5 * 1024 * 1024
MAX_PHOTOS = 6
ALLOWED_FORMATS = {"JPEG": "jpg", "PNG": "png"}


def validate_photo(upload):
    """Raise ValidationError (Chinese) unless `upload` is a JPEG or PNG image of at most 5 MB."""
    name = getattr(upload, "name", "照片")
    if upload.size > MAX_PHOTO_BYTES:
        raise ValidationError(f"照片“{name}”超过5MB，请压缩后再上传。", code="photo_size")
    try:
        fmt = image_format(upload)
    except ImageTooLarge as exc:
        raise ValidationError(f"照片“{name}”{exc.message}", code="photo_pixels") from None
    if fmt is None:
        raise ValidationError(f"文件“{name}”不是有效的图片。", code="photo_type")
    if fmt not in ALLOWED_FORMATS:
        raise ValidationError(f"照片“{name}”格式不支持，只能上传JPG或PNG。", code="photo_type")
