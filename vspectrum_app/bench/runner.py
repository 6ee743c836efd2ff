"""Executing a run: asyncio over the model-calling service (providers/service.py: per-provider
concurrency and rate limits, retries, circuit breaker, cost), the response cache, and resume.

Per item, the conversation of protocol.md section 3: the image with "Do you like ...?",
then "Why ...?", then "Describe ..." (text mode: model A's description instead of the image,
then the like and why questions). Each call is looked up in the workspace's call log first
(key: provider, model, parameters, the whole conversation's text, the image's hash, the
repeat index) and only sent when absent; its response is logged before it is used.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Callable

from vspectrum_app.bench.journal import CallJournal, journal_path, read_journal
from vspectrum_app.bench.modality import NO_DESCRIPTION
from vspectrum_app.bench.parsing import classify_answer
from vspectrum_app.bench.progress import RunOutcome, status_text
from vspectrum_app.bench.prompts import PromptSet
from vspectrum_app.bench.requests import PROBE, call_key, call_request, plan_requests
from vspectrum_app.bench.store import RUN_LOCK, RunStore
from vspectrum_app.bench.variants import from_manifest
from vspectrum_app.core import clock, db, diskspace, locks
from vspectrum_app.core.answer_words import looks_like_refusal
from vspectrum_app.core.jobs import Cancelled, NullReporter, Reporter
from vspectrum_app.core.secrets import redact
from vspectrum_app.library import catalog
from vspectrum_app.providers.clients import ChatClient, Completion, Message, Params, make_client
from vspectrum_app.providers.config import ProviderStore, redact_url
from vspectrum_app.providers.errors import AuthFailed, ContentRefused, ProviderCallError
from vspectrum_app.providers.refs import provider_of, split_label
from vspectrum_app.providers.retry import ProviderUnavailable
from vspectrum_app.providers.service import LATENCY_GUESS_S, ModelService, ProviderLine

if TYPE_CHECKING:
    from vspectrum_app.core.workspace import Workspace

MIN_FREE_BYTES = 1 << 20
MEDIA_TYPES = {"jpg": "image/jpeg", "png": "image/png", "webp": "image/webp"}


class NoDescription(Exception):
    pass


class RunStorageError(Exception):
    """The catalog could not store an answer: the run stopped sending (the message says what
    was kept and how to go on)."""


class _StorageHalt(Exception):
    """Ends an item whose answer could not be stored (it went to the journal instead)."""


class RunEngine:
    def __init__(
        self,
        ws: Workspace,
        run_id: str,
        reporter: Reporter | None = None,
        providers: ProviderStore | None = None,
        client_factory: Callable[..., ChatClient] = make_client,
    ):
        self.ws, self.run_id = ws, run_id
        self.reporter = reporter or NullReporter()
        self.store = RunStore(ws)
        self.manifest = self.store.manifest(run_id)
        self.prompts = PromptSet.from_json(self.manifest["prompts"])
        self.wordings = {w.name: w.like for w in from_manifest(self.manifest)}  # variant name -> like question
        self.params = Params(**self.manifest["params"])
        self.nonce = run_id if self.manifest.get("fresh") else ""
        self.service = ModelService(providers or ProviderStore(), client_factory=client_factory, reporter=self.reporter)
        self.service.on_wait = self._waiting
        self._planned: Counter[str] = Counter()  # provider -> requests this execution sends (the estimate's count)
        self._descriptions: dict[str, asyncio.Future[str | None]] = {}
        self._inflight: dict[str, asyncio.Future[Completion]] = {}  # identical calls wait for one request
        self._finished: list[tuple[int, str, list[str | None]]] = []  # done marks not yet written
        self._keys: dict[int, dict[int, str]] = {}  # item id -> turn -> the call's cache key
        self._description_keys: dict[str, str] = {}  # image sha -> the describe call's key
        self._last_flush = time.monotonic()
        self.counts: Counter[str] = Counter()
        self._tasks: list[asyncio.Task[Any]] = []
        self._storage_error: Exception | None = None  # the first write the catalog refused
        self._journal: CallJournal | None = None

    # -- entry points -------------------------------------------------------------------
    def execute(self) -> RunOutcome:
        return asyncio.run(self.run())

    async def run(self) -> RunOutcome:
        todo = self.store.todo(self.run_id)
        total = len(self.store.items(self.run_id, status=None))
        self.counts["done"] = total - len(todo)
        self.store.set_status(self.run_id, "running")
        self._started = time.monotonic()
        self._total = total
        problems: list[str] = []
        try:
            self._restore_journal()
            self._journal = CallJournal(journal_path(self.ws.root, self.run_id))
            await self._open_providers(todo, problems)
            self.reporter.progress(self.counts["done"], total, "starting")
            tasks = self._tasks = [asyncio.create_task(self._item(item)) for item in todo]
            watcher = asyncio.create_task(self._watch_cancel(tasks))
            results = await asyncio.gather(*tasks, return_exceptions=True)
            watcher.cancel()
            self._flush(force=True)
            if self._storage_error is not None:
                raise self._storage_stop()
            if self.reporter.cancelled():
                self.store.set_status(self.run_id, "cancelled")
                raise Cancelled("cancelled")
            for r in results:
                if isinstance(r, BaseException) and not isinstance(r, asyncio.CancelledError):
                    raise r
        except Cancelled:
            raise
        except Exception as exc:
            self._mark_stopped(str(exc) if isinstance(exc, RunStorageError) else None)
            raise
        finally:
            self._flush_quietly()
            if self._journal is not None:
                self._journal.close(keep=True)
            await self.service.close()
        problems += [p.dead for p in self.service.lines.values() if p.dead]
        remaining = self.store.todo(self.run_id)
        status = "done" if not remaining else "stopped"
        self.store.set_status(self.run_id, status, "; ".join(problems) or None)
        return RunOutcome(
            self.run_id,
            status,
            self.counts["done"],
            len(remaining),
            self.service.counts["sent"],
            self.counts["cached"],
            tuple(problems),
        )

    async def _open_providers(self, todo: list[dict[str, Any]], problems: list[str]) -> None:
        names = {provider_of(i["target"]) for i in todo}
        if self.manifest.get("describe_with") and any(i["mode"] == "text" for i in todo):
            names.add(provider_of(self.manifest["describe_with"]))
        for name in sorted(names):
            line = self.service.line(name)
            if line.dead:
                self.reporter.emit("error", provider=name, message=line.dead)
        # what this execution will send: the estimate's count, so that the ETA and the estimate agree
        self._planned = plan_requests(
            todo,
            prompts=self.prompts,
            params=self.params,
            configs=lambda name: self.service.line(name).config,
            describe_with=self.manifest.get("describe_with"),
            nonce=self.nonce,
            cached=self.store.cached,
            wordings=self.wordings,
        ).per_provider()

    def _waiting(self, provider: str, seconds: float, cause: str, reason: str | None = None) -> None:
        """A stall is never silent: a typed event naming its cause (the GUI shows it)."""
        if cause in ("requests", "tokens"):
            limit = self.service.line(provider).limiter.describe()
            message = f"waiting for the rate limit of {provider}: {limit}, next call in {seconds:.0f} s"
        else:
            limit = None
            message = f"waiting {seconds:.0f} s before retrying a call to {provider}: {reason}"
        self.reporter.emit(
            "waiting", provider=provider, cause=cause, limit=limit, seconds=round(seconds, 1), message=message
        )

    async def _watch_cancel(self, tasks: list[asyncio.Task[Any]]) -> None:
        """On Stop / the first Ctrl-C: cancel what waits, let the calls already sent finish so
        that their answers (already paid for) are stored. A second Ctrl-C aborts at once."""
        while True:
            await asyncio.sleep(0.1)
            if self._storage_error is not None:
                # stopped by a refused write: a call on the wire that failed is cancelled in its
                # back-off, before it is sent again
                for t in tasks:
                    if t not in self.service.sending:
                        t.cancel()
                continue
            if self.reporter.cancelled():
                sending = self.service.sending
                if sending:
                    self.reporter.log(f"waiting for {len(sending)} calls in flight; their answers are kept", "warning")
                for t in tasks:
                    if t not in sending:
                        t.cancel()
                return

    # -- one item -----------------------------------------------------------------------
    async def _item(self, item: dict[str, Any]) -> None:
        provider_name, model = split_label(item["target"])
        provider = self.service.line(provider_name)
        if provider.dead:
            return  # stays pending: resume after fixing the key
        try:
            if item["mode"] == PROBE:
                answers, refused = await self._probe(provider, model, item)
            elif item["mode"] == "vlm":
                answers, refused = await self._vlm_conversation(provider, model, item)
            else:
                answers, refused = await self._text_conversation(provider, model, item)
        except (AuthFailed, ProviderUnavailable) as exc:  # the item stays pending for a resume
            if not provider.dead:
                provider.dead = str(exc)
                self.reporter.emit("error", provider=provider_name, message=str(exc))
            return
        except ContentRefused:
            answers, refused = [None], True
        except NoDescription:
            return self._done(item, NO_DESCRIPTION, [None])
        except ProviderCallError as exc:
            message = redact(str(exc))
            self._keys.pop(item["id"], None)
            self._fail_item(item["id"], message)
            self.counts["errors"] += 1
            self.reporter.emit("item_error", item_id=item["id"], target=item["target"], message=message)
            self._progress()
            return
        self._done(item, classify_answer(answers[0], refused_by_api=refused), answers)

    def _done(self, item: dict[str, Any], answer_class: str, answers: list[str | None]) -> None:
        self._finished.append((item["id"], answer_class, answers))
        self._flush()
        self.counts["done"] += 1
        self.counts[answer_class] += 1
        self.reporter.emit(
            "answer",
            run_id=self.run_id,
            item_id=item["id"],
            target=item["target"],
            mode=item["mode"],
            value=item["value"],
            keyword=item["keyword"],
            image_id=item["image_id"],
            image_sha256=item["image_sha256"],
            answer_class=answer_class,
            variant=item["variant"],
            answer=(answers[0] or "")[:200],
            reason=(answers[1] if len(answers) > 1 and answers[1] else "")[:300],
        )
        self._progress()

    async def _vlm_conversation(
        self, provider: ProviderLine, model: str, item: dict[str, Any]
    ) -> tuple[list[str | None], bool]:
        # The image is attached to the first message when a call is really sent (``_send``):
        # answers found in the workspace never read it.
        like = self.wordings[item["variant"]]  # the item's wording; why and describe are the run's
        messages = [Message("user", like)]
        answers: list[str | None] = []
        for turn, question in enumerate((like, self.prompts.why, self.prompts.describe), start=1):
            if turn > 1:
                messages = messages + [Message("assistant", answers[-1] or ""), Message("user", question)]
            try:
                completion = await self._call(provider, model, messages, item, turn, with_image=True)
            except ContentRefused:
                if turn == 1:
                    raise
                # a policy block on "why" or "describe" leaves the answer to "do you like" valid
                return answers + [None] * (4 - turn), False
            answers.append(completion.text)
            if completion.refused:
                # the API refused the content: no point asking further; a refusal of a later
                # turn does not undo the first answer
                return answers + [None] * (3 - turn), turn == 1
        return answers, False

    async def _probe(self, provider: ProviderLine, model: str, item: dict[str, Any]) -> tuple[list[str | None], bool]:
        """The acquiescence probe: the reversed question alone, with the image."""
        completion = await self._call(
            provider, model, [Message("user", self.prompts.reversed)], item, 1, with_image=True
        )
        return [completion.text], completion.refused

    async def _text_conversation(
        self, provider: ProviderLine, model: str, item: dict[str, Any]
    ) -> tuple[list[str | None], bool]:
        description = await self._description(item)
        if item["image_sha256"] in self._description_keys:  # the shared description is behind this item too
            self._keys.setdefault(item["id"], {})[0] = self._description_keys[item["image_sha256"]]
        if description is None:
            raise NoDescription  # the describer refused or said nothing: not this model's answer
        messages = [Message("user", self.prompts.text_question(description, self.wordings[item["variant"]]))]
        first = await self._call(provider, model, messages, item, 1)
        if first.refused:
            return [first.text, None, description], True
        messages += [Message("assistant", first.text), Message("user", self.prompts.why)]
        try:
            second = await self._call(provider, model, messages, item, 2)
        except ContentRefused:  # a policy block on "why" leaves the first answer valid
            return [first.text, None, description], False
        return [first.text, second.text, description], False

    async def _description(self, item: dict[str, Any]) -> str | None:
        """Model A's description of an image, asked once per image however many items need it;
        None when model A declines (its refusal is no answer of the text-only model's)."""
        sha = item["image_sha256"]
        if sha not in self._descriptions:
            future = asyncio.get_running_loop().create_future()
            self._descriptions[sha] = future
            try:
                name, model = split_label(self.manifest["describe_with"])
                provider = self.service.line(name)
                if provider.dead:
                    raise AuthFailed(provider.dead)
                try:
                    completion = await self._call(
                        provider, model, [Message("user", self.prompts.describe)], item, 0, with_image=True
                    )
                    text = None if completion.refused or looks_like_refusal(completion.text) else completion.text
                except ContentRefused:
                    text = None
                future.set_result(text.strip() if text and text.strip() else None)
            except BaseException as exc:
                future.set_exception(exc)
                future.exception()  # retrieved: waiters re-raise it
                del self._descriptions[sha]
                raise
        return await asyncio.shield(self._descriptions[sha])

    def _image(self, item: dict[str, Any]) -> tuple[bytes, str]:
        file = catalog.image_file(self.ws, item["image_id"])
        if file is None:
            raise FileNotFoundError(f"image {item['image_id']} is no longer in the library")
        return file.path(self.ws).read_bytes(), MEDIA_TYPES.get(file.ext, "image/jpeg")

    # -- one call -----------------------------------------------------------------------
    async def _call(
        self,
        provider: ProviderLine,
        model: str,
        messages: list[Message],
        item: dict[str, Any],
        turn: int,
        with_image: bool = False,
    ) -> Completion:
        """One model call; ``with_image``: the item's screenshot goes with the first message."""
        sha = item["image_sha256"] if with_image else None
        request = call_request(provider.config, model, self.params, messages, sha, item["repeat"])
        key = call_key(request, self.nonce)
        self._keys.setdefault(item["id"], {})[turn] = key
        if turn == 0:
            self._description_keys[item["image_sha256"]] = key
        hit = self.store.cached(key)
        if hit is not None:
            self.counts["cached"] += 1
            return Completion(
                text=hit["response_text"],
                refused=bool(hit["refused"]),
                finish_reason=hit["finish_reason"],
                input_tokens=hit["input_tokens"],
                output_tokens=hit["output_tokens"],
            )
        if key in self._inflight:  # the same image retrieved for two values: ask once
            self.counts["cached"] += 1
            return await asyncio.shield(self._inflight[key])
        future = asyncio.get_running_loop().create_future()
        self._inflight[key] = future
        try:
            if with_image:
                image, media_type = self._image(item)
                messages = [replace(messages[0], image=image, media_type=media_type)] + messages[1:]
            completion = await self._send(provider, model, messages, item, turn, key, request)
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: waiters re-raise it, nobody else must
            raise
        finally:
            del self._inflight[key]
        future.set_result(completion)
        return completion

    async def _send(
        self,
        provider: ProviderLine,
        model: str,
        messages: list[Message],
        item: dict[str, Any],
        turn: int,
        key: str,
        request: dict[str, Any],
    ) -> Completion:
        result = await self.service.call(provider.config.name, model, messages, self.params)
        completion = result.completion
        self._log_call(
            cache_key=key,
            run_id=self.run_id,
            item_id=item["id"],
            turn=turn,
            provider=provider.config.name,
            model=model,
            request=request,
            response_text=completion.text,
            refused=completion.refused,
            finish_reason=completion.finish_reason,
            input_tokens=completion.input_tokens,
            output_tokens=completion.output_tokens,
            latency_s=result.latency_s,
            cost_usd=result.cost_usd,
            truncated=completion.truncated,
        )
        return completion

    # -- storage: the call log, done marks, and what happens when the catalog refuses a write --
    def _log_call(self, **call: Any) -> None:
        """Store a call's answer before it is used. When the catalog cannot take it, the answer
        goes to the journal (paid for: resume reads it back), the run stops sending, and the
        item ends here."""
        # the key was made from the address as sent; the log keeps it without credentials
        call["request"] = {**call["request"], "base_url": redact_url(call["request"].get("base_url"))}
        if self._storage_error is None:
            try:
                self.store.log_call(**call)
                return
            except Exception as exc:  # noqa: BLE001 - any failed write: a full disk, an I/O error, a lock held too long
                self._storage_failed(exc)
        assert self._journal is not None  # opened before any call is sent
        self._journal.add({**call, "created_at": clock.now()})
        raise _StorageHalt

    def _fail_item(self, item_id: int, message: str) -> None:
        """Record an item's error; a refused write stops the run like any other (the item then
        stays pending and resume asks again)."""
        try:
            self.store.fail_item(item_id, message)
        except Exception as exc:  # noqa: BLE001 - see _log_call
            self._storage_failed(exc)

    def _storage_failed(self, exc: Exception) -> None:
        """The first refused write stops the queue: what waits is cancelled at once; the calls
        already on the wire finish and their answers go to the journal."""
        if self._storage_error is not None:
            return
        self._storage_error = exc
        self.reporter.log(
            f"an answer could not be stored ({exc}); stopping: nothing more is sent, "
            f"the answers of the calls in flight ({len(self.service.sending)}) go to the run's journal",
            "warning",
        )
        current = asyncio.current_task()
        for t in self._tasks:
            if t is not current and t not in self.service.sending:
                t.cancel()

    def _storage_stop(self) -> RunStorageError:
        """The one sentence for a run the catalog stopped (the disk named is the workspace's)."""
        exc = self._storage_error
        assert exc is not None
        if diskspace.is_disk_full(exc):
            reason = diskspace.disk_full_message(self.ws.root)
        else:
            reason = db.explain(exc, self.ws.root / "catalog.sqlite")
        kept = self._journal.written if self._journal else 0
        lost = self._journal.lost if self._journal else 0
        return RunStorageError(
            f"{reason} Run {self.run_id} stopped sending; the answers received are kept "
            f"({kept} in its journal{f', {lost} lost: the journal was full' if lost else ''}); "
            f"resume it with `vspectrum bench resume {self.run_id}` once there is room."
        )

    def _restore_journal(self) -> None:
        """Answers an earlier execution kept in the journal go into the call log before
        anything is sent (then they are found there instead of being asked again)."""
        path = journal_path(self.ws.root, self.run_id)
        records = read_journal(path)
        if records:
            n = self.store.restore_calls(records)
            self.reporter.log(f"{n} answers kept in the journal of run {self.run_id} were stored", "info")
        path.unlink(missing_ok=True)

    def _flush(self, force: bool = False) -> None:
        """Write the done marks; a refused write stops the run (the items stay pending: their
        answers are in the call log, so resume marks them without sending)."""
        if self._finished and (force or len(self._finished) >= 64 or time.monotonic() - self._last_flush > 0.5):
            if self._storage_error is not None and not force:
                return
            calls = [
                (item_id, turn, key)
                for item_id, _, _ in self._finished
                for turn, key in self._keys.get(item_id, {}).items()
            ]
            try:
                self.store.finish_items(self._finished, calls)
            except Exception as exc:  # noqa: BLE001 - see _log_call
                self._storage_failed(exc)
                return
            for item_id, _, _ in self._finished:
                self._keys.pop(item_id, None)
            self._finished = []
            self._last_flush = time.monotonic()

    def _flush_quietly(self) -> None:
        """The final flush; when it fails (a full disk), the error in flight is the one to report."""
        try:
            self._flush(force=True)
        except Exception:  # noqa: BLE001 - the unflushed items stay pending and are redone on resume
            pass

    def _mark_stopped(self, error: str | None = None) -> None:
        """A run that failed is left "stopped" (resumable), not "running". When even that write
        fails (a full disk), it is said, and the run still reads "stopped" to every reader:
        ``RunStore.runs`` shows a "running" run that no process holds as stopped."""
        try:
            self.store.set_status(self.run_id, "stopped", error)
        except Exception as exc:  # noqa: BLE001 - the error that stopped the run is the one raised
            self.reporter.log(
                f"run {self.run_id} could not be marked stopped ({exc}); it reads as stopped "
                "because no process holds it",
                "warning",
            )

    def _progress(self) -> None:
        c = self.counts
        done = c["done"] + c["errors"]
        status: dict[str, Any] = {
            "items_done": done,
            "items_total": self._total,
            "calls_sent": self.service.counts["sent"],
            "calls_cached": c["cached"],
            "calls_left": self.calls_left(),
            "eta_s": round(self.eta_seconds(), 1),
            "errors": c["errors"],
            "refusal": c["refusal"],
            "unparsed": c["unparsed"],
            "retries": self.service.counts["retries"],
            "cost_usd": self.service.spent.usd,
            "cost": self.service.spent.describe(),
        }
        self.reporter.progress(done, self._total, status_text(status))
        self.reporter.emit("run_status", **status)

    def calls_left(self) -> int:
        """Requests still to send, by the estimate's count less those sent (0 once all are done)."""
        if self.counts["done"] + self.counts["errors"] >= self._total:
            return 0
        return sum(self._left(name) for name in self._planned if not self.service.line(name).dead)

    def _left(self, provider: str) -> int:
        return max(self._planned[provider] - self.service.line(provider).calls_sent, 0)

    def eta_seconds(self) -> float:
        """Time left: per provider, the slower of its rate limit and its observed latency over
        its concurrency (providers run in parallel, so the slowest one decides); only the
        requests still to send count (``bench.requests``: repeats and logged answers left out)."""
        eta = 0.0
        for name, p in self.service.lines.items():
            left = self._left(name)
            if p.dead or not left:
                continue
            latency = p.mean_latency() or LATENCY_GUESS_S
            eta = max(eta, p.limiter.seconds_for(left), left * latency / p.config.concurrency)
        return eta


def execute_run(
    ws: Workspace, run_id: str, reporter: Reporter | None = None, engine: type[RunEngine] | None = None, **kwargs: Any
) -> RunOutcome:
    """Run or resume ``run_id``; one process at a time (a second one is refused before sending).
    ``engine``: another engine class (a ``--batch`` run's: ``bench.batch_run``)."""
    with locks.hold(ws.root, RUN_LOCK, run_id, f"run {run_id}"):
        diskspace.require_free(ws.root, MIN_FREE_BYTES)  # answers are small; the journal needs room
        return (engine or RunEngine)(ws, run_id, reporter, **kwargs).execute()
