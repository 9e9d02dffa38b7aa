"""The input device picker; refreshable while not recording.

Devices are listed by the controller off the GUI thread (PortAudio queries can
stall); this widget only shows them and reports the choice.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QStyle,
    QVBoxLayout,
    QWidget,
)

DEFAULT_DEVICE_LABEL = "System default microphone"
MIN_DEVICE_CHARS = 12  # the combo's width in characters; longer names are elided in it


def device_name(device: object) -> str:
    """The name of an InputDevice (or of anything printable)."""
    return str(getattr(device, "name", device))


class DevicePicker(QWidget):
    """A combo of input devices with a Refresh button."""

    refresh_requested = Signal()
    device_changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.combo = QComboBox()
        self.combo.setAccessibleName("Input device")
        self.combo.setAccessibleDescription("The microphone to record from")
        self.combo.addItem(DEFAULT_DEVICE_LABEL, None)
        # a long device name must not widen the left pane: the list shows it whole
        self.combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.combo.setMinimumContentsLength(MIN_DEVICE_CHARS)
        self.refresh = QPushButton("Refresh")
        self.refresh.setIcon(self.style().standardIcon(QStyle.StandardPixmap.SP_BrowserReload))
        self.refresh.setToolTip("Look for microphones again (only while not recording)")
        self.refresh.setAccessibleName("Refresh input devices")
        label = QLabel("&Microphone:")
        label.setBuddy(self.combo)
        row = QHBoxLayout()  # the label above the choice: the pane stays narrow
        row.addWidget(self.combo, 1)
        row.addWidget(self.refresh)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(label)
        layout.addLayout(row)
        self.refresh.clicked.connect(self.refresh_requested)
        self.combo.currentIndexChanged.connect(self.device_changed)

    def set_devices(self, devices: Sequence[object], preferred: str | None = None) -> None:
        """Show `devices`; keep the current choice (or `preferred`) when still present."""
        keep = preferred if preferred is not None else self.selected_device()
        self.combo.blockSignals(True)
        self.combo.clear()
        self.combo.addItem(DEFAULT_DEVICE_LABEL, None)
        for device in devices:
            name = device_name(device)
            self.combo.addItem(name, name)
        found = self.combo.findData(keep) if keep else 0
        self.combo.setCurrentIndex(max(found, 0))
        self.combo.blockSignals(False)
        self.device_changed.emit()

    def selected_device(self) -> str | None:
        """The chosen device name, or None for the system default."""
        data = self.combo.currentData()
        return str(data) if data else None

    def lock(self, locked: bool) -> None:
        """No switching or refreshing while capturing."""
        self.combo.setEnabled(not locked)
        self.refresh.setEnabled(not locked)
