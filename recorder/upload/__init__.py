"""The upload queue (service thread) and its pure planning rules."""

from recorder.upload.plan import Action, Step, next_step
from recorder.upload.service import UploadService

__all__ = ["Action", "Step", "UploadService", "next_step"]
