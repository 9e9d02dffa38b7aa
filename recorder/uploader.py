"""The upload queue's public name: `from recorder.uploader import UploadService`."""

from recorder.upload.service import UploadService

__all__ = ["UploadService"]
