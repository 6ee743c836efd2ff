"""Settings: model providers (from a preset, models read from the server, prices, keys in the
keyring or an opt-in key file, shown only as set / not set), the CLIP model and its weights,
the browser for the crawler, the default workspace. Everything scrolls, so the pane works at
1024x640."""

from __future__ import annotations

from typing import Any

from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QDesktopServices, QResizeEvent, QShowEvent, QStandardItemModel
from PySide6.QtWidgets import (
    QBoxLayout,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from vspectrum_app.core import secrets
from vspectrum_app.gui.context import AppContext
from vspectrum_app.gui.jobs import Job, result_of
from vspectrum_app.gui.message_label import MessageLabel
from vspectrum_app.gui.weights_dialog import WeightsStateWidget
from vspectrum_app.gui.workers import Worker
from vspectrum_app.library import ops as library_ops
from vspectrum_app.providers import ops as providers_ops
from vspectrum_app.providers import presets, prices
from vspectrum_app.providers.config import KINDS, ProviderConfig, ProviderError, ProviderStore

WIDE = 980  # below this width the two columns stack
FILL_MODELS_UP_TO = 5  # a server listing this few models fills an empty Models field directly
KEY_STORES = (("keyring", "System keyring"), ("file", "A file only you can read (not encrypted)"))


class SettingsPane(QWidget):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx = ctx
        self.store = ProviderStore()
        self.worker = Worker(self)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        # the scroll bar's room is kept: a bar that came and went moved the columns sideways
        scroll.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOn)
        content = QWidget()
        scroll.setWidget(content)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll, 1)
        # outside the scroll area: a result is never below the fold
        self.status = MessageLabel(lines=2)
        self.status.setAccessibleName("Settings status")
        status_row = QHBoxLayout()
        status_row.setContentsMargins(9, 0, 9, 4)
        status_row.addWidget(self.status)
        outer.addLayout(status_row)
        self.columns = QBoxLayout(QBoxLayout.Direction.LeftToRight, content)
        self.columns.addWidget(self._provider_box(), 3)
        right = QVBoxLayout()
        right.addWidget(self._clip_box())
        right.addWidget(self._other_box())
        self.save_settings_button = QPushButton("Save settings")
        self.save_settings_button.clicked.connect(self.save_settings)
        right.addWidget(self.save_settings_button)
        right.addStretch()
        self.columns.addLayout(right, 2)
        self._reload()
        self.load_clip()
        # a result line is about the last action: an edit after it makes it stale
        for edit in self.findChildren(QLineEdit):
            edit.textEdited.connect(self._clear_result)
        for combo in self.findChildren(QComboBox):
            combo.activated.connect(self._clear_result)

    def _clear_result(self, *_: object) -> None:
        if self.status.kind() == "success":  # "... saved": done; an error or a hint stays until dealt with
            self.status.set_message("")

    # -- building ---------------------------------------------------------------------------
    def _provider_box(self) -> QGroupBox:
        box = QGroupBox("Model providers")
        bl = QVBoxLayout(box)
        self.preset = QComboBox()
        self.preset.setAccessibleName("Provider preset")
        self.preset.addItem("Start from a preset...", None)
        for p in presets.PRESETS:
            self.preset.addItem(p.label, p.name)
        self.preset.activated.connect(self._apply_preset)
        bl.addWidget(self.preset)
        self.provider_list = QListWidget()
        self.provider_list.setMaximumHeight(90)
        self.provider_list.setAccessibleName("Configured providers")
        self.provider_list.currentTextChanged.connect(self._load_provider)
        bl.addWidget(self.provider_list)
        form = QFormLayout()
        self.name = QLineEdit()
        self.kind = QComboBox()
        self.kind.addItems(KINDS)
        self.base_url = QLineEdit()
        self.base_url.setPlaceholderText("the service's default address")
        self.models = QLineEdit()
        self.models.setPlaceholderText("comma-separated, e.g. gpt-4o, gpt-4o-mini")
        self.fetch_button = QPushButton("Fetch models")
        self.fetch_button.setToolTip("Ask the server which models it offers (GET /v1/models)")
        self.listed = QComboBox()
        self.listed.setAccessibleName("Models the server lists")
        self.listed.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.listed.setMinimumContentsLength(12)
        self.add_model_button = QPushButton("Add")
        self.add_model_button.setToolTip("Add the model chosen in the list to Models")
        self.listed.setEnabled(False)
        self.add_model_button.setEnabled(False)
        self.fetch_button.clicked.connect(self.fetch_models)
        self.add_model_button.clicked.connect(self._add_listed_model)
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
            spin.setSpecialValueText("from the price table")  # 0: the dated table decides
        self.price_hint = QLabel()
        self.price_hint.setWordWrap(True)
        self.price_hint.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.price_table_button = QPushButton("Open price table...")
        self.price_table_button.setToolTip("Your copy of the dated price table; its entries override the bundled ones")
        self.price_table_button.clicked.connect(self._open_price_table)
        self.key = QLineEdit()
        self.key.setEchoMode(QLineEdit.EchoMode.Password)
        self.key.setPlaceholderText("paste a key to store it")
        self.key_status = QLabel()
        self.key_store = QComboBox()
        self.key_store.setAccessibleName("Where API keys are stored")
        self.key_note = MessageLabel(lines=3)
        self._fill_key_stores()
        self.key_store.currentIndexChanged.connect(self._key_store_changed)
        # in the order a newcomer fills them in: where, the key (Fetch models needs it), what, limits, prices
        for label, widget in (
            ("Name", self.name),
            ("Kind", self.kind),
            ("Address", self.base_url),
            ("API key", self.key),
            ("", self.key_status),
            ("Store keys in", self.key_store),
            ("", self.key_note),
            ("Models", self.models),
            ("", _row(self.fetch_button, self.listed, self.add_model_button)),
            ("Parallel requests", self.concurrency),
            ("Requests / minute", self.rpm),
            ("Tokens / minute", self.tpm),
            ("Timeout per request", self.timeout),
            ("Price in", self.price_in),
            ("Price out", self.price_out),
            ("", self.price_hint),
            ("", _row(self.price_table_button)),
        ):
            form.addRow(label, widget)
        self.base_url.setToolTip("For a local server, e.g. http://localhost:11434/v1 (Ollama)")
        buttons = QHBoxLayout()  # under the list, so Save is in view without scrolling at 1024x640
        self.new_button, self.save_button = QPushButton("New"), QPushButton("Save")
        self.remove_button, self.test_button = QPushButton("Remove"), QPushButton("Test")
        self.test_button.setToolTip("Send one short request to the first model")
        self.save_button.setToolTip("Save this provider (and store the key typed below)")
        for b in (self.new_button, self.save_button, self.remove_button, self.test_button):
            buttons.addWidget(b)
        bl.addLayout(buttons)
        bl.addLayout(form)
        self.new_button.clicked.connect(self._new)
        self.save_button.clicked.connect(self.save_provider)
        self.remove_button.clicked.connect(self._remove)
        self.test_button.clicked.connect(self.test_provider)
        for signal in (
            self.models.textChanged,
            self.base_url.textChanged,
            self.price_in.valueChanged,
            self.price_out.valueChanged,
            self.kind.currentTextChanged,
        ):
            signal.connect(self._show_prices)
        return box

    def _clip_box(self) -> QGroupBox:
        clip = QGroupBox("CLIP model (for the library index)")
        cf = QFormLayout(clip)
        self.clip_in_use = QLabel()
        self.clip_in_use.setWordWrap(True)
        self.clip_in_use.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.clip_model = QLineEdit()
        self.clip_pretrained = QLineEdit()
        self.clip_config = _PathField(None, "open_clip model config (*.json)")
        self.clip_checkpoint = _PathField(None, "Checkpoint (*.pt *.pth *.bin *.safetensors)")
        self.weights_state = WeightsStateWidget(self.ctx)
        cf.addRow("In use", self.clip_in_use)
        cf.addRow("Model", self.clip_model)
        cf.addRow("Pretrained weights", self.clip_pretrained)
        cf.addRow("Local config", self.clip_config)
        cf.addRow("Local checkpoint", self.clip_checkpoint)
        cf.addRow(self.weights_state)
        note = QLabel(
            "Default: ViT-B-32 with LAION-2B weights, downloaded once (Download...). Offline, choose a "
            "local checkpoint (and a config for models open_clip does not know)."
        )
        note.setWordWrap(True)
        cf.addRow(note)
        self.model_button = QPushButton("Save and check model")
        self.model_status = MessageLabel(lines=3)
        self.model_progress = QProgressBar()  # loading a model takes seconds: show that it goes on
        self.model_progress.setRange(0, 0)
        self.model_progress.setTextVisible(False)
        self.model_progress.setAccessibleName("Checking the CLIP model")
        self.model_progress.setVisible(False)
        self.model_button.clicked.connect(self.check_model)
        cf.addRow(self.model_button)
        cf.addRow(self.model_progress)
        cf.addRow(self.model_status)
        for field in (self.clip_config, self.clip_checkpoint):
            field.edit.textChanged.connect(self._sync_clip_fields)
        return clip

    def _other_box(self) -> QGroupBox:
        other = QGroupBox("Crawler and workspace")
        of = QFormLayout(other)
        s = self.ctx.settings
        self.browser = _PathField(s.get("browser_executable"), "Browser executable (*)")
        self.default_ws = _PathField(s.get("default_workspace"), None, folder=True)
        of.addRow("Browser (Chrome/Edge/Chromium)", self.browser)
        of.addRow("Default workspace", self.default_ws)
        return other

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt's name): two columns when there is room
        direction = (
            QBoxLayout.Direction.LeftToRight if event.size().width() >= WIDE else QBoxLayout.Direction.TopToBottom
        )
        if self.columns.direction() != direction:
            self.columns.setDirection(direction)
        super().resizeEvent(event)

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 (the model may have been chosen in another pane)
        if self._clip_settings() != self._clip_shown:
            self.load_clip()
        self._clear_result()  # "Settings saved" from a visit before is not news
        super().showEvent(event)

    def _clip_settings(self) -> tuple[Any, ...]:
        s = self.ctx.settings
        return tuple(s.get(k) for k in ("clip_model", "clip_pretrained", "clip_config", "clip_checkpoint"))

    # -- providers ----------------------------------------------------------------------
    def _reload(self, select: str | None = None) -> None:
        self.provider_list.clear()
        try:
            providers = self.store.all()
        except ProviderError as exc:
            self.status.set_message(str(exc), "error")
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

    def _apply_preset(self, index: int) -> None:
        name = self.preset.itemData(index)
        if not name:
            return
        preset = presets.preset(name)
        taken = {self.provider_list.item(i).text() for i in range(self.provider_list.count())}
        unique = next(n for n in [preset.name] + [f"{preset.name}-{i}" for i in range(2, 100)] if n not in taken)
        self.provider_list.clearSelection()
        self._fill(preset.config(unique))
        self.key.setPlaceholderText(
            "not needed for a server on this machine" if preset.local else "paste a key to store it"
        )
        self.status.set_message(
            f"{preset.label}: check the address and models, then Save."
            + (" Fetch models asks the server what it runs." if preset.local else "")
        )
        self.preset.setCurrentIndex(0)

    def _load_provider(self, name: str) -> None:
        if name:
            try:
                self._fill(self.store.get(name))
            except ProviderError as exc:
                self.status.set_message(str(exc), "error")

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
        self.listed.clear()
        self.listed.setEnabled(False)
        self.add_model_button.setEnabled(False)
        self._show_key_status(p)
        self._show_prices()

    def _show_key_status(self, p: ProviderConfig) -> None:
        try:
            status = secrets.key_status(p.name, p.kind) if p.name else secrets.KeyStatus(False, None)
        except secrets.SecretError as exc:
            self.key_status.setText("key file unreadable")
            self.status.set_message(str(exc), "error")
            return
        self.key_status.setText(f"key set ({status.source})" if status.is_set else "no key set")

    def _form_models(self) -> list[str]:
        return [m.strip() for m in self.models.text().split(",") if m.strip()]

    def _form_config(self) -> ProviderConfig:
        return replace(
            self._shown,
            name=self.name.text().strip(),
            kind=self.kind.currentText(),
            base_url=self.base_url.text().strip() or None,
            models=self._form_models(),
            concurrency=self.concurrency.value(),
            requests_per_minute=self.rpm.value(),
            tokens_per_minute=self.tpm.value() or None,
            timeout_s=self.timeout.value(),
            price_input_per_mtok=self.price_in.value(),
            price_output_per_mtok=self.price_out.value(),
        )

    def save_provider(self) -> ProviderConfig | None:
        try:
            config = self._form_config()
        except ProviderError as exc:
            self.status.set_message(str(exc), "error")
            return None
        self.store.save(config)
        message, kind = f"Provider {config.name} saved.", "success"
        if self.key.text().strip():
            store = self.key_store.currentData()
            try:
                if store is None:
                    raise secrets.KeyringUnavailable(secrets.keyring_status()[1] + " Choose one in Store keys in.")
                secrets.set_key(config.name, self.key.text(), store=store)
            except (secrets.KeyringUnavailable, secrets.SecretError) as exc:
                message, kind = f"Provider {config.name} saved, but its key was not stored: {exc}", "error"
            self.key.clear()
        self._reload(select=config.name)
        self._show_key_status(config)
        self.status.set_message(message, kind)
        self.ctx.providers_changed.emit()
        return config

    def _remove(self) -> None:
        item = self.provider_list.currentItem()
        if (
            item
            and QMessageBox.question(self, "Remove", f"Remove provider {item.text()}?")
            == QMessageBox.StandardButton.Yes
        ):
            self.store.remove(item.text())
            self._reload()
            self.status.set_message(f"Provider {item.text()} removed (its stored key was kept).")
            self.ctx.providers_changed.emit()

    def test_provider(self) -> None:
        item = self.provider_list.currentItem()
        if not item:
            self.status.set_message("Save the provider first, then Test.", "error")
            return
        self.status.set_message(f"Testing {item.text()}...")
        job = self.ctx.run_job(f"Test {item.text()}", providers_ops.Check(name=item.text()))
        job.finished.connect(lambda _code, j=job: self._tested(j))

    def _tested(self, job: Job) -> None:
        checked = result_of(job, providers_ops.Checked)
        if checked is not None:
            self.status.set_message(
                ("OK: " if checked.ok else "Failed: ") + checked.message, "success" if checked.ok else "error"
            )
        else:
            self.status.set_message(f"Failed: {job.error or 'the test was stopped'}", "error")

    # -- models from the server ---------------------------------------------------------------
    def fetch_models(self) -> None:
        kind, base_url = self.kind.currentText(), self.base_url.text().strip() or None
        name = self.name.text().strip()
        try:
            key = self.key.text().strip() or (secrets.get_key(name, kind) if name else None)
        except secrets.SecretError as exc:
            self.status.set_message(str(exc), "error")
            return
        self.fetch_button.setEnabled(False)
        self.status.set_message("Asking the server for its models...")
        self.worker.run(lambda: presets.fetch_models(kind, base_url, key), self._models_fetched, self._fetch_failed)

    def _models_fetched(self, models: list[str]) -> None:
        self.fetch_button.setEnabled(True)
        self.listed.clear()
        self.listed.addItems(models)
        self.listed.setEnabled(bool(models))
        self.add_model_button.setEnabled(bool(models))
        if not models:
            self.status.set_message("The server lists no models: is one loaded? Type its name in Models.", "error")
        elif not self._form_models() and len(models) <= FILL_MODELS_UP_TO:
            self.models.setText(", ".join(models))
            self.status.set_message(
                f"The server lists {len(models)} model(s): put in Models. Save to keep them.", "success"
            )
        else:
            self.status.set_message(
                f"The server lists {len(models)} models: pick one in the list and click Add.", "success"
            )

    def _fetch_failed(self, message: str) -> None:
        self.fetch_button.setEnabled(True)
        self.status.set_message(message, "error")

    def _add_listed_model(self) -> None:
        model = self.listed.currentText()
        if model and model not in self._form_models():
            self.models.setText(", ".join(self._form_models() + [model]))

    # -- prices -----------------------------------------------------------------------------
    def _show_prices(self, *_args: object) -> None:
        models = self._form_models()
        if not models:
            self.price_hint.setText("")
            return
        try:
            table = prices.load_table()
        except prices.PriceError as exc:
            self.price_hint.setText(str(exc))
            return
        # the form as typed so far (it need not be a valid provider yet to show prices)
        config = SimpleNamespace(
            price_input_per_mtok=self.price_in.value(),
            price_output_per_mtok=self.price_out.value(),
            base_url=self.base_url.text().strip() or None,
        )
        parts = []
        for model in models[:6]:
            price = prices.price_for(config, model, table)
            parts.append(
                f"{model}: no price known (enter one above or in the price table)"
                if price is None
                else f"{model}: free ({price.source})"
                if price.input_per_mtok == price.output_per_mtok == 0
                else f"{model}: ${price.input_per_mtok:.2f} in, ${price.output_per_mtok:.2f} out per million "
                f"tokens ({price.source})"
            )
        self.price_hint.setText("\n".join(parts))

    def _open_price_table(self) -> None:
        path = prices.user_prices_path()
        if not path.exists():
            from vspectrum_app.core.atomic import atomic_write_text

            atomic_write_text(
                path, '{\n  "as_of": "",\n  "models": {\n    "example-model": {"input": 1.0, "output": 2.0}\n  }\n}\n'
            )
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)))
        self.status.set_message(
            f"Your price table is {path}; its entries override the bundled table (as of {prices.load_table().as_of})."
        )

    # -- keys ------------------------------------------------------------------------------
    def _fill_key_stores(self) -> None:
        usable, _ = secrets.keyring_status()
        for value, label in KEY_STORES:
            self.key_store.addItem(label, value)
        model = self.key_store.model()  # a combo box's own model: one item per choice
        if not usable and isinstance(model, QStandardItemModel) and (first := model.item(0)) is not None:
            first.setEnabled(False)
        self.key_store.setPlaceholderText("Choose where keys are kept")
        chosen = self.ctx.settings.get("key_store")
        if chosen == "file" or (chosen == "keyring" and usable):
            self.key_store.setCurrentIndex(1 if chosen == "file" else 0)
        else:
            self.key_store.setCurrentIndex(0 if usable else -1)  # the file is an explicit choice, never a default
        self._show_key_note()

    def _key_store_changed(self, _index: int) -> None:
        store = self.key_store.currentData()
        if store:
            self.ctx.settings.set("key_store", store)
            self.ctx.settings.save()
        self._show_key_note()

    def _show_key_note(self) -> None:
        usable, why = secrets.keyring_status()
        if self.key_store.currentData() == "file":
            self.key_note.set_message(
                f"Not encrypted: keys are kept in {secrets.key_file()}, readable only by "
                f"your user account (mode 0600), as command-line tools do."
            )
        else:
            self.key_note.set_message(why)

    # -- CLIP ---------------------------------------------------------------------------------
    def load_clip(self) -> None:
        """Show the Settings' model as it is: a local model never shows the default's name and tag."""
        from vspectrum_app.encoders.embedder import ClipSpec

        s = self.ctx.settings
        self._clip_shown = self._clip_settings()
        self.clip_config.set_path(s.get("clip_config") or "")
        self.clip_checkpoint.set_path(s.get("clip_checkpoint") or "")
        self.clip_model.setText(s.get("clip_model") or "")
        self.clip_pretrained.setText("" if s.get("clip_checkpoint") else s.get("clip_pretrained") or "")
        self._sync_clip_fields()
        self.clip_in_use.setText(ClipSpec.from_settings(s.as_dict()).describe())
        self.weights_state.refresh()

    def _sync_clip_fields(self) -> None:
        config, checkpoint = self.clip_config.path(), self.clip_checkpoint.path()
        if config:
            self.clip_model.setText(Path(config).stem)  # open_clip names a config's model after its file
        if checkpoint:
            self.clip_pretrained.clear()
        self.clip_model.setEnabled(not config)
        self.clip_pretrained.setEnabled(not checkpoint)
        self.clip_pretrained.setPlaceholderText("the local checkpoint" if checkpoint else "random weights")

    def check_model(self) -> None:
        """Loads the model in a background job: downloads the weights on first use (progress
        from the download shows as it goes), or says in one sentence why it cannot."""
        self.save_settings()
        if self.weights_state.state() in ("missing", "partial"):  # the dialog shows progress and can resume
            self.model_status.set_message(
                "The CLIP weights are not downloaded yet: click Download... above, "
                "or use a file you already have there.",
                "error",
            )
            return
        self.model_status.set_message("Loading the CLIP model...")
        job = self.ctx.run_job("CLIP model", library_ops.Model(json=True, clip=self.ctx.clip_options()))
        self.model_progress.setVisible(True)
        self.model_button.setEnabled(False)
        job.log.connect(lambda level, msg: self.model_status.set_message(msg))
        job.progress.connect(self._model_progress)
        job.finished.connect(lambda _code, j=job: self._model_checked(j))

    def _model_checked(self, job: Job) -> None:
        self.model_progress.setVisible(False)
        self.model_button.setEnabled(True)
        info = result_of(job, library_ops.ModelInfo)
        if info is not None:
            self.model_status.set_message(f"Ready: {info.model}, {info.dim}-dimensional embeddings.", "success")
        else:
            self.model_status.set_message(f"Not available: {job.error or 'the check was stopped'}", "error")

    def _model_progress(self, done: int, total: int, _text: str) -> None:
        """A download's progress where the job reports one; a busy bar otherwise."""
        self.model_progress.setRange(0, total if total > 0 else 0)
        if total > 0:
            self.model_progress.setValue(done)

    # -- other settings -----------------------------------------------------------------
    def save_settings(self) -> None:
        s = self.ctx.settings
        checkpoint = self.clip_checkpoint.path() or None
        s.update(
            clip_model=self.clip_model.text().strip() or "ViT-B-32",
            clip_pretrained=None if checkpoint else self.clip_pretrained.text().strip() or None,
            clip_config=self.clip_config.path() or None,
            clip_checkpoint=checkpoint,
            browser_executable=self.browser.path() or None,
            default_workspace=self.default_ws.path() or None,
        )
        s.save()
        self.load_clip()
        self.status.set_message(
            "Settings saved. A changed CLIP model re-embeds the library at the next index build.", "success"
        )
        self.ctx.library_changed.emit()


def _row(*widgets: QWidget) -> QWidget:
    row = QWidget()
    layout = QHBoxLayout(row)
    layout.setContentsMargins(0, 0, 0, 0)
    for w in widgets:
        layout.addWidget(w)
    layout.addStretch()
    return row


class _PathField(QWidget):
    def __init__(self, value: str | None, file_filter: str | None, folder: bool = False):
        super().__init__()
        self.edit = QLineEdit(value or "")
        button = QPushButton("...")
        button.setFixedWidth(32)
        button.setAccessibleName("Choose...")
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.edit)
        row.addWidget(button)

        def choose() -> None:
            path = (
                QFileDialog.getExistingDirectory(self)
                if folder
                else QFileDialog.getOpenFileName(self, filter=file_filter or "")[0]
            )
            if path:
                self.edit.setText(path)

        button.clicked.connect(choose)

    def path(self) -> str:
        return self.edit.text().strip()

    def set_path(self, path: str) -> None:
        self.edit.setText(path)
