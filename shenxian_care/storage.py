"""Where finished exports are kept: a private directory, outside MEDIA_ROOT and with no URL of its own.

A file there is handed out only by the export download view (to the person who asked for it, audited), never
by a web server or a guessable address.
"""

from django.core.files.storage import FileSystemStorage


class PrivateStorage(FileSystemStorage):
    def __init__(self, **kwargs):
        kwargs.setdefault("file_permissions_mode", 0o600)
        kwargs.setdefault("directory_permissions_mode", 0o700)
        super().__init__(**kwargs)

    def url(self, name):
        raise ValueError("导出文件没有公开地址，只能由申请人在导出结果页下载。")
