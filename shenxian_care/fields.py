"""Model fields for sensitive personal data: encrypted at rest, with a digest and a masked copy beside them."""

import json

from django.core.exceptions import FieldError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models

from . import crypto
from .privacy import mask_id_number


class EncryptedTextField(models.TextField):
    """Stored encrypted; read back in the clear. It cannot be filtered on (the ciphertext is different each
    time): look ID numbers up by their digest field instead. An empty value is stored empty."""

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value in (None, ""):
            return value
        return crypto.encrypt(str(value))

    def from_db_value(self, value, expression, connection):
        if value in (None, ""):
            return value
        return crypto.decrypt(value)

    def get_lookup(self, lookup_name):
        if lookup_name == "isnull":
            return super().get_lookup(lookup_name)
        raise FieldError(f"加密字段 {self.name} 不能按“{lookup_name}”查询：请用摘要字段查找。")

    def get_transform(self, lookup_name):
        raise FieldError(f"加密字段 {self.name} 不能按“{lookup_name}”查询。")


class EncryptedJSONField(EncryptedTextField):
    """A JSON value (a list or dict) stored encrypted as a whole: for working copies of personal data, such as an
    uploaded roster's checked rows, that are read and written as one piece and never queried."""

    def get_prep_value(self, value):
        if value is None:
            return None
        return crypto.encrypt(json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False))

    def from_db_value(self, value, expression, connection):
        if value is None:
            return None
        if value == "":
            return self.get_default()
        return json.loads(crypto.decrypt(value))

    def to_python(self, value):
        return value

    def value_to_string(self, obj):
        return self.value_from_object(obj)


class EncryptedBinaryField(models.BinaryField):
    """Bytes (an uploaded file) stored encrypted; read back in the clear."""

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value in (None, b""):
            return value
        return crypto.encrypt_bytes(value)

    def from_db_value(self, value, expression, connection):
        if value is None:
            return None
        return crypto.decrypt_bytes(value)


class _DerivedField(models.CharField):
    """A column computed from another field of the row whenever the row is saved (also by bulk_create)."""

    def __init__(self, *args, source=None, **kwargs):
        self.source = source
        kwargs.setdefault("editable", False)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs["source"] = self.source
        return name, path, args, kwargs

    def derive(self, value):
        raise NotImplementedError

    def pre_save(self, model_instance, add):
        value = getattr(model_instance, self.source)
        derived = self.derive(value) if value else (None if self.null else "")
        setattr(model_instance, self.attname, derived)
        return derived


class DigestField(_DerivedField):
    """HMAC digest of the source value (unique, searchable by equality)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", 64)
        super().__init__(*args, **kwargs)

    def derive(self, value):
        return crypto.digest(value)


class MaskedIdField(_DerivedField):
    """The masked form shown by default everywhere (3715**********1234), kept so lists never decrypt."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", 20)
        super().__init__(*args, **kwargs)

    def derive(self, value):
        return mask_id_number(value)


def secret_columns(model, *relations):
    """The encrypted columns of `model` and of its related models along `relations` (select_related paths), as
    names for QuerySet.defer()."""
    names = []
    for path in ("", *relations):
        related = model
        for name in path.split("__") if path else ():
            related = related._meta.get_field(name).related_model
        prefix = f"{path}__" if path else ""
        names += [prefix + f.name for f in related._meta.concrete_fields if isinstance(f, EncryptedTextField)]
    return names


def without_secrets(queryset, *relations):
    """`queryset` that never reads, so never decrypts, the encrypted columns of its model and of the given
    select_related relations: for work that needs names and places, not ID or bank numbers (a caregiver's visit,
    a list). Reading such a column later costs a query of its own, so use it only where none is read (the tests
    of lists count decryptions)."""
    return queryset.defer(*secret_columns(queryset.model, *relations))
