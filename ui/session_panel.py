"""Consult details: patient reference, consent, language.

Consent must be ticked before Record is enabled when the practice requires it
(the controller reads `consent_given`). The fields lock while recording, so
what was consented to is what is recorded.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QWidget,
)

MIN_LANGUAGE_CHARS = 14  # the combo's width in characters; longer names are elided in it
CONSENT_TEXT = "The patient has consented to this consult being recorded"

LANGUAGES = (
    ("English", "en"),
    ("English (Australia)", "en-AU"),
    ("English (United States)", "en-US"),
    ("English (United Kingdom)", "en-GB"),
    ("English (Canada)", "en-CA"),
)


class _ClickableLabel(QLabel):
    """The consent words: wrapped (a checkbox's own text cannot wrap and kept the pane wide),
    and a click on them ticks the box, as a click on a checkbox's own text does."""

    def __init__(self, text: str, box: QCheckBox) -> None:
        super().__init__(text)
        self._box = box
        self.setWordWrap(True)
        self.setBuddy(box)
        self.setCursor(Qt.CursorShape.PointingHandCursor)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() is Qt.MouseButton.LeftButton and self._box.isEnabled():
            self._box.toggle()
            self._box.setFocus(Qt.FocusReason.MouseFocusReason)
        super().mouseReleaseEvent(event)


class SessionPanel(QWidget):
    """Who the consult is with, whether they consented, and in which language."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.patient = QLineEdit()
        self.patient.setPlaceholderText("Patient name or EHR id (optional)")
        self.patient.setAccessibleName("Patient name or EHR patient id")
        self.patient.setAccessibleDescription("Optional; sent with the consult to Heidi")
        self.patient.setMaxLength(200)
        self.consent = QCheckBox()
        self.consent_text = _ClickableLabel(CONSENT_TEXT, self.consent)
        self.consent.setAccessibleName("Patient consent")
        self.consent.setAccessibleDescription("Required before recording can start")
        self.language = QComboBox()
        self.language.setAccessibleName("Consult language")
        for label, code in LANGUAGES:
            self.language.addItem(f"{label} ({code})", code)
        # narrower than its longest item (the list shows them whole): the pane stays narrow
        self.language.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.language.setMinimumContentsLength(MIN_LANGUAGE_CHARS)
        layout = QFormLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addRow("&Patient:", self.patient)
        consent_row = QHBoxLayout()  # the whole width: its words are the longest here
        consent_row.addWidget(self.consent, 0, Qt.AlignmentFlag.AlignTop)
        consent_row.addWidget(self.consent_text, 1)
        layout.addRow(consent_row)
        layout.addRow("&Language:", self.language)
        self.patient.textChanged.connect(self.changed)
        self.consent.toggled.connect(self.changed)
        self.language.currentIndexChanged.connect(self.changed)

    def patient_ref(self) -> str:
        """The patient reference as typed, trimmed."""
        return self.patient.text().strip()

    def consent_given(self) -> bool:
        """The consent box is ticked."""
        return self.consent.isChecked()

    def language_code(self) -> str:
        """The chosen language code, e.g. en-AU."""
        code = self.language.currentData()
        return str(code) if code else "en"

    def set_language_code(self, code: str) -> None:
        """Select `code`, adding it when it is not one of the presets."""
        found = self.language.findData(code)
        if found < 0 and code:
            self.language.addItem(code, code)
            found = self.language.count() - 1
        self.language.setCurrentIndex(max(found, 0))

    def set_consent_required(self, required: bool) -> None:
        """Say on the checkbox whether the practice requires consent."""
        why = (
            "Required before recording can start"
            if required
            else "Optional: the practice settings do not require it"
        )
        self.consent.setAccessibleDescription(why)
        self.consent.setToolTip(why)
        self.consent_text.setToolTip(why)

    def lock(self, locked: bool) -> None:
        """While recording, the consult details cannot change."""
        for widget in (self.patient, self.consent, self.consent_text, self.language):
            widget.setEnabled(not locked)

    def reset_for_next_consult(self) -> None:
        """Clear patient and consent after a consult, so they never carry over by mistake."""
        self.patient.clear()
        self.consent.setChecked(False)
