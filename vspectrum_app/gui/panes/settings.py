"""Settings: model providers and their keys (in the keyring, shown only as set / not set),
the CLIP model, the browser for the crawler, the default workspace."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QComboBox, QDoubleSpinBox, QFileDialog, QFormLayout, QGroupBox, QHBoxLayout, QLabel,
                               QLineEdit, QListWidget, QMessageBox, QPushButton, QSpinBox, QVBoxLayout, QWidget)

from vspectrum_app.core import secrets
from vspectrum_app.providers.config import KINDS, ProviderConfig, ProviderError, ProviderStore


class SettingsPane(QWidget):
    def __init__(self, ctx, parent=None):
        super().__init__(parent)
        self.ctx = ctx
        self.store = ProviderStore()
        layout = QHBoxLayout(self)

        # -- providers
        box = QGroupBox("Model providers")
        bl = QVBoxLayout(box)
        self.provider_list = QListWidget()
        self.provider_list.currentTextChanged.connect(self._load_provider)
        bl.addWidget(self.provider_list)
        form = QFormLayout()
        self.name = QLineEdit()
        self.kind = QComboBox()
        self.kind.addItems(KINDS)
        self.base_url = QLineEdit()
        self.base_url.setPlaceholderText("default endpoint (vLLM: http://localhost:8000/v1, Ollama: http://localhost:11434/v1)")
        self.models = QLineEdit()
        self.models.setPlaceholderText("comma-separated, e.g. gpt-4o, gpt-4o-mini")
        self.concurrency = QSpinBox()
        self.concurrency.setRange(1, 256)
        self.rpm = QSpinBox()
        self.rpm.setRange(1, 100_000)
        self.tpm = QSpinBox()
        self.tpm.setRange(0, 100_000_000)
        self.tpm.setSingleStep(1000)
        self.tpm.setSpecialValueText("no limit")  # 0 stands for None: no tokens-per-minute limit
        self.timeout = QDoubleSpinBox()
        self.timeout.setRange(1, 3600)
        self.timeout.setSuffix(" s")
        self.price_in = QDoubleSpinBox()
        self.price_out = QDoubleSpinBox()
        for spin in (self.price_in, self.price_out):
            spin.setRange(0, 1000)
            spin.setDecimals(3)
            spin.setSuffix(" $/M tok")
        self.key = QLineEdit()
        self.key.setEchoMode(QLineEdit.EchoMode.Password)
        self.key.setPlaceholderText("paste a key to store it in the keyring")
        self.key_status = QLabel()
        for label, widget in (("Name", self.name), ("Kind", self.kind), ("Base URL", self.base_url),
                              ("Models", self.models), ("Concurrency", self.concurrency),
                              ("Requests / minute", self.rpm), ("Tokens / minute", self.tpm),
                              ("Timeout per request", self.timeout), ("Price in", self.price_in),
                              ("Price out", self.price_out), ("API key", self.key), ("", self.key_status)):
            form.addRow(label, widget)
        bl.addLayout(form)
        buttons = QHBoxLayout()
        self.new_button, self.save_button = QPushButton("New"), QPushButton("Save")
        self.remove_button, self.test_button = QPushButton("Remove"), QPushButton("Test")
        for b in (self.new_button, self.save_button, self.remove_button, self.test_button):
            buttons.addWidget(b)
        bl.addLayout(buttons)
        self.keyring_note = QLabel(secrets.keyring_status()[1])
        self.keyring_note.setWordWrap(True)
        self.test_result = QLabel()
        self.test_result.setWordWrap(True)
        bl.addWidget(self.keyring_note)
        bl.addWidget(self.test_result)
        self.new_button.clicked.connect(self._new)
        self.save_button.clicked.connect(self.save_provider)
        self.remove_button.clicked.connect(self._remove)
        self.test_button.clicked.connect(self.test_provider)
        layout.addWidget(box, 3)

        # -- CLIP, browser, workspace
        right = QVBoxLayout()
        clip = QGroupBox("CLIP model (for the library index)")
        cf = QFormLayout(clip)
        s = ctx.settings
        self.clip_model = QLineEdit(s.get("clip_model") or "")
        self.clip_pretrained = QLineEdit(s.get("clip_pretrained") or "")
        self.clip_config = _PathField(s.get("clip_config"), "open_clip model config (*.json)")
        self.clip_checkpoint = _PathField(s.get("clip_checkpoint"), "Checkpoint (*.pt *.pth *.bin *.safetensors)")
        cf.addRow("Model", self.clip_model)
        cf.addRow("Pretrained weights", self.clip_pretrained)
        cf.addRow("Local config", self.clip_config)
        cf.addRow("Local checkpoint", self.clip_checkpoint)
        note = QLabel("Default: ViT-B-32 with LAION-2B weights, downloaded on first use. Offline, choose a local "
                      "checkpoint (and a config for models open_clip does not know).")
        note.setWordWrap(True)
        cf.addRow(note)
        self.model_button = QPushButton("Save and download / check model")
        self.model_status = QLabel()
        self.model_status.setWordWrap(True)
        self.model_button.clicked.connect(self.check_model)
        cf.addRow(self.model_button)
        cf.addRow(self.model_status)
        right.addWidget(clip)
        other = QGroupBox("Crawler and workspace")
        of = QFormLayout(other)
        self.browser = _PathField(s.get("browser_executable"), "Browser executable (*)")
        self.default_ws = _PathField(s.get("default_workspace"), None, folder=True)
        of.addRow("Browser (Chrome/Edge/Chromium)", self.browser)
        of.addRow("Default workspace", self.default_ws)
        right.addWidget(other)
        self.save_settings_button = QPushButton("Save settings")
        self.save_settings_button.clicked.connect(self.save_settings)
        right.addWidget(self.save_settings_button)
        right.addStretch()
        layout.addLayout(right, 2)
        self._reload()

    # -- providers ----------------------------------------------------------------------
    def _reload(self, select: str | None = None) -> None:
        self.provider_list.clear()
        try:
            providers = self.store.all()
        except ProviderError as exc:
            self.test_result.setText(str(exc))
            providers = []
        for p in providers:
            self.provider_list.addItem(p.name)
        if select:
            match = self.provider_list.findItems(select, Qt.MatchFlag.MatchExactly)
            if match:
                self.provider_list.setCurrentItem(match[0])
        elif providers:
            self.provider_list.setCurrentRow(0)
        else:
            self._new()

    def _new(self) -> None:
        self.provider_list.clearSelection()
        self._fill(ProviderConfig(name="new-provider", kind="openai"))
        self.name.clear()

    def _load_provider(self, name: str) -> None:
        if name:
            self._fill(self.store.get(name))

    def _fill(self, p: ProviderConfig) -> None:
        self._shown = p  # what Save starts from: settings without a field here (max_retries) survive an edit
        self.name.setText(p.name)
        self.kind.setCurrentText(p.kind)
        self.base_url.setText(p.base_url or "")
        self.models.setText(", ".join(p.models))
        self.concurrency.setValue(p.concurrency)
        self.rpm.setValue(p.requests_per_minute)
        self.tpm.setValue(p.tokens_per_minute or 0)
        self.timeout.setValue(p.timeout_s)
        self.price_in.setValue(p.price_input_per_mtok)
        self.price_out.setValue(p.price_output_per_mtok)
        self.key.clear()
        self._show_key_status(p)

    def _show_key_status(self, p: ProviderConfig) -> None:
        status = secrets.key_status(p.name, p.kind) if p.name else secrets.KeyStatus(False, None)
        self.key_status.setText(f"key set ({status.source})" if status.is_set else "no key set")

    def save_provider(self) -> ProviderConfig | None:
        try:
            config = replace(self._shown, name=self.name.text().strip(), kind=self.kind.currentText(),
                             base_url=self.base_url.text().strip() or None,
                             models=[m.strip() for m in self.models.text().split(",") if m.strip()],
                             concurrency=self.concurrency.value(), requests_per_minute=self.rpm.value(),
                             tokens_per_minute=self.tpm.value() or None, timeout_s=self.timeout.value(),
                             price_input_per_mtok=self.price_in.value(),
                             price_output_per_mtok=self.price_out.value())
        except ProviderError as exc:
            QMessageBox.warning(self, "Provider", str(exc))
            return None
        self.store.save(config)
        if self.key.text().strip():
            try:
                secrets.set_key(config.name, self.key.text())
            except (secrets.KeyringUnavailable, secrets.SecretError) as exc:
                QMessageBox.warning(self, "API key not stored", str(exc))
            self.key.clear()
        self._reload(select=config.name)
        self._show_key_status(config)
        self.ctx.providers_changed.emit()
        return config

    def _remove(self) -> None:
        item = self.provider_list.currentItem()
        if item and QMessageBox.question(self, "Remove", f"Remove provider {item.text()}?") == QMessageBox.StandardButton.Yes:
            self.store.remove(item.text())
            self._reload()
            self.ctx.providers_changed.emit()

    def test_provider(self) -> None:
        item = self.provider_list.currentItem()
        if not item:
            return
        self.test_result.setText(f"testing {item.text()}...")
        job = self.ctx.run_job(f"Test {item.text()}", ["providers", "test", item.text()])
        job.finished.connect(lambda code, j=job: self.test_result.setText(
            "OK: " + " ".join(j.output) if code == 0 else
            "Failed: " + (j.stderr.strip().splitlines() or ["unknown error"])[-1]))

    def check_model(self) -> None:
        """Loads the model in a background job: downloads the weights on first use (progress
        from the download shows as it goes), or says in one sentence why it cannot."""
        self.save_settings()
        self.model_status.setText("loading the CLIP model (the first time downloads its weights)...")
        job = self.ctx.run_job("CLIP model", ["library", "model", "--json", *self.ctx.clip_args()])
        job.log.connect(lambda level, msg: self.model_status.setText(msg))
        job.finished.connect(lambda code, j=job: self.model_status.setText(
            f"Ready: {j.result['model']}, {j.result['dim']}-dimensional embeddings." if code == 0 and j.result
            else f"Not available: {j.error or (j.stderr.strip().splitlines() or ['unknown error'])[-1]}"))

    # -- other settings -----------------------------------------------------------------
    def save_settings(self) -> None:
        s = self.ctx.settings
        s.update(clip_model=self.clip_model.text().strip() or "ViT-B-32",
                 clip_pretrained=self.clip_pretrained.text().strip() or None,
                 clip_config=self.clip_config.path() or None, clip_checkpoint=self.clip_checkpoint.path() or None,
                 browser_executable=self.browser.path() or None, default_workspace=self.default_ws.path() or None)
        s.save()
        self.test_result.setText("Settings saved. A changed CLIP model re-embeds the library at the next index build.")
        self.ctx.library_changed.emit()


class _PathField(QWidget):
    def __init__(self, value: str | None, file_filter: str | None, folder: bool = False):
        super().__init__()
        self.edit = QLineEdit(value or "")
        button = QPushButton("...")
        button.setFixedWidth(32)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.edit)
        row.addWidget(button)

        def choose():
            path = (QFileDialog.getExistingDirectory(self) if folder
                    else QFileDialog.getOpenFileName(self, filter=file_filter or "")[0])
            if path:
                self.edit.setText(path)

        button.clicked.connect(choose)

    def path(self) -> str:
        return self.edit.text().strip()

    def set_path(self, path: str) -> None:
        self.edit.setText(path)
