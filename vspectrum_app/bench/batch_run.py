"""A ``--batch`` run: the runner's conversations, with each request to an OpenAI or Anthropic
provider sent in a batch (``providers.batch``) at half the live price.

The runner walks every item's conversation as in a live run; a turn that must be sent waits
in a queue instead. Once every item waits (the queue stops growing), the queue goes out as
one batch per provider: round 1 holds all first turns ("Do you like ...?", the describer's
descriptions), round 2 the "why" turns that follow from round 1's answers, round 3 the
"describe" turns (protocol.md section 3). A request's ``custom_id`` is its cache key, so its
result finds its item whatever the order of the output.

Each batch id and its requests are committed to the workspace the moment the provider
accepts the batch, before it is polled: after a kill -9, ``bench resume`` polls the same
batches and re-sends nothing they hold. Each result is logged (``bench_calls``) as soon as it
is fetched. A request a batch did not answer (expired, errored, cancelled, the batch failed)
is asked live, counted and said.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from vspectrum_app.bench.progress import RunOutcome
from vspectrum_app.bench.runner import RunEngine
from vspectrum_app.core import clock
from vspectrum_app.providers.batch import BatchAPI, make_batch_api, supports_batch
from vspectrum_app.providers.clients import Completion, Message
from vspectrum_app.providers.errors import AuthFailed, Retryable
from vspectrum_app.providers.prices import batch_price, call_cost
from vspectrum_app.providers.config import redact_url

if TYPE_CHECKING:
    from vspectrum_app.core.workspace import Workspace
    from vspectrum_app.providers.service import ProviderLine

MAX_BATCH_REQUESTS = 50_000  # OpenAI's limit (Anthropic's: 100,000)
MAX_BATCH_BYTES = 100 << 20  # half OpenAI's 200 MB file limit: room for JSON overhead
Outcome = Completion | str  # an answer, or why the batch gave none

MIGRATIONS: list[str] = [
    """
    CREATE TABLE bench_batches (
        batch_id    TEXT PRIMARY KEY,
        run_id      TEXT NOT NULL REFERENCES bench_runs(id) ON DELETE CASCADE,
        provider    TEXT NOT NULL,
        round       INTEGER NOT NULL,
        state       TEXT NOT NULL,        -- the provider's last word: validating, in_progress, ended...
        requests    INTEGER NOT NULL,
        created_at  TEXT NOT NULL,
        resolved_at TEXT                  -- every result logged (or known missing): not polled again
    );
    CREATE TABLE bench_batch_requests (
        batch_id     TEXT NOT NULL REFERENCES bench_batches(batch_id) ON DELETE CASCADE,
        custom_id    TEXT NOT NULL,       -- the call's cache key
        item_id      INTEGER NOT NULL,
        turn         INTEGER NOT NULL,
        model        TEXT NOT NULL,
        request_json TEXT NOT NULL,       -- the call's logged record (never the image bytes)
        PRIMARY KEY (batch_id, custom_id)
    );
    """,
]


def _stored(request: dict[str, Any]) -> dict[str, Any]:
    """A call's record as the catalog keeps it: the address without credentials (the key that
    matches results was made from the address as sent)."""
    return {**request, "base_url": redact_url(request.get("base_url"))}


class BatchLog:
    """The batches of runs, in the workspace catalog."""

    def __init__(self, ws: Workspace):
        self.ws = ws
        ws.ensure_schema("bench_batches", MIGRATIONS)

    def add(
        self,
        batch_id: str,
        run_id: str,
        provider: str,
        round_no: int,
        state: str,
        rows: list[tuple[str, int, int, str, dict[str, Any]]],
    ) -> None:
        """Record a batch the provider accepted, with its requests: (custom_id, item_id, turn, model, request)."""
        with self.ws.transaction() as conn:
            conn.execute(
                "INSERT INTO bench_batches(batch_id, run_id, provider, round, state, requests, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (batch_id, run_id, provider, round_no, state, len(rows), clock.now()),
            )
            conn.executemany(
                "INSERT INTO bench_batch_requests(batch_id, custom_id, item_id, turn, model, request_json)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (batch_id, cid, item, turn, model, json.dumps(_stored(req), ensure_ascii=False))
                    for cid, item, turn, model, req in rows
                ],
            )

    def set_state(self, batch_id: str, state: str, resolved: bool = False) -> None:
        with self.ws.transaction() as conn:
            conn.execute(
                "UPDATE bench_batches SET state = ?, resolved_at = CASE WHEN ? THEN ? ELSE resolved_at END"
                " WHERE batch_id = ?",
                (state, int(resolved), clock.now(), batch_id),
            )

    def batches(self, run_id: str, open_only: bool = False) -> list[dict[str, Any]]:
        sql = "SELECT * FROM bench_batches WHERE run_id = ?" + (" AND resolved_at IS NULL" if open_only else "")
        return [dict(r) for r in self.ws.db.execute(sql + " ORDER BY round, created_at", (run_id,))]

    def requests(self, batch_id: str) -> list[dict[str, Any]]:
        return [
            dict(r)
            for r in self.ws.db.execute(
                "SELECT * FROM bench_batch_requests WHERE batch_id = ? ORDER BY rowid", (batch_id,)
            )
        ]


@dataclass
class _Queued:
    model: str
    messages: list[Message]
    item_id: int
    turn: int
    request: dict[str, Any]


class BatchRunEngine(RunEngine):
    """``RunEngine`` whose calls to providers with a batch API go out in batches."""

    def __init__(self, *args: Any, poll_s: float = 0.25, max_poll_s: float = 60.0, quiet_s: float = 0.05, **kw: Any):
        super().__init__(*args, **kw)
        self.poll_s, self.max_poll_s, self.quiet_s = poll_s, max_poll_s, quiet_s
        self.batch_log = BatchLog(self.ws)
        self._apis: dict[str, BatchAPI] = {}
        self._queues: dict[str, dict[str, _Queued]] = {}  # provider -> custom_id -> request waiting for a batch
        self._results: dict[str, asyncio.Future[Outcome]] = {}  # custom_id -> its batch's answer
        self._pollers: set[asyncio.Task[None]] = set()
        self._rounds: Counter[str] = Counter()
        self._stopping = False

    async def run(self) -> RunOutcome:
        coordinator = asyncio.create_task(self._coordinate())
        try:
            outcome = await super().run()
            live = self.counts["batch_live"]
            self.reporter.log(
                f"{self.counts['batches']} batches sent this time"
                + (f"; {live} requests their batches did not answer were asked live" if live else "")
            )
            return outcome
        finally:
            self._stopping = True
            await coordinator  # a batch being submitted is stored before the run ends
            for task in self._pollers:
                task.cancel()
            await asyncio.gather(*self._pollers, return_exceptions=True)
            for api in self._apis.values():
                await api.close()

    async def _open_providers(self, todo: list[dict[str, Any]], problems: list[str]) -> None:
        await super()._open_providers(todo, problems)
        for batch in self.batch_log.batches(self.run_id, open_only=True):  # a resumed run: poll what was submitted
            self._rounds[batch["provider"]] = max(self._rounds[batch["provider"]], batch["round"])
            for row in self.batch_log.requests(batch["batch_id"]):
                self._results.setdefault(row["custom_id"], asyncio.get_running_loop().create_future())
            self.reporter.log(f"polling batch {batch['batch_id']} of {batch['provider']} submitted before the restart")
            self._start_poller(batch["provider"], batch["batch_id"], batch["round"])

    # -- one call ---------------------------------------------------------------------------
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
        name = provider.config.name
        if not supports_batch(provider.config):
            return await super()._send(provider, model, messages, item, turn, key, request)
        future = self._results.get(key)
        if future is None:  # not in a batch yet: wait for the next one
            future = self._results[key] = asyncio.get_running_loop().create_future()
            self._queues.setdefault(name, {})[key] = _Queued(model, messages, item["id"], turn, request)
        outcome = await asyncio.shield(future)
        if isinstance(outcome, Completion):
            return outcome
        self.counts["batch_live"] += 1  # said once per batch (``_resolve``), counted here
        return await super()._send(provider, model, messages, item, turn, key, request)

    # -- batches ----------------------------------------------------------------------------
    async def _coordinate(self) -> None:
        """Submit each provider's queue once it stops growing: every item that can go on waits."""
        sizes: dict[str, int] = {}
        while not self._stopping:
            await asyncio.sleep(self.quiet_s)
            if self.reporter.cancelled():
                continue
            for name, queue in list(self._queues.items()):
                if queue and sizes.get(name) == len(queue):
                    self._queues[name] = {}
                    try:
                        await self._submit(name, queue)
                    except Exception as exc:  # e.g. the catalog cannot be written: those items fail, none hangs
                        self._fail(list(queue), exc)
                sizes[name] = len(self._queues.get(name, {}))

    def _api(self, name: str) -> BatchAPI:
        if name not in self._apis:
            self._apis[name] = make_batch_api(self.service.line(name).config)
        return self._apis[name]

    async def _submit(self, name: str, queue: dict[str, _Queued]) -> None:
        self._rounds[name] += 1
        round_no = self._rounds[name]
        line = self.service.line(name)
        for chunk in self._chunks(queue, self._api(name)):
            bodies = {cid: body for cid, (_, body) in chunk.items()}
            try:
                batch_id = await self._api(name).submit(bodies)
            except AuthFailed as exc:
                self._fail(list(chunk), exc)
                continue
            except Exception as exc:  # noqa: BLE001 - not accepted: its requests are asked live
                for cid in chunk:
                    self._results[cid].set_result(f"the batch was not accepted: {exc}")
                continue
            # committed before anything else happens: a restart polls this batch, never re-sends it
            rows = [(cid, q.item_id, q.turn, q.model, q.request) for cid, (q, _) in chunk.items()]
            self.batch_log.add(batch_id, self.run_id, name, round_no, "submitted", rows)
            self.service.counts["sent"] += len(chunk)
            line.calls_sent += len(chunk)
            self.counts["batches"] += 1
            self._event(name, batch_id, round_no, "submitted", len(chunk))
            self._start_poller(name, batch_id, round_no)

    def _start_poller(self, name: str, batch_id: str, round_no: int) -> None:
        task = asyncio.create_task(self._poll(name, batch_id, round_no))
        self._pollers.add(task)
        task.add_done_callback(self._pollers.discard)

    async def _poll(self, name: str, batch_id: str, round_no: int) -> None:
        api, delay, last = self._api(name), self.poll_s, ""
        try:
            while True:
                try:
                    status = await api.status(batch_id)
                except Retryable as exc:
                    self.reporter.log(f"batch {batch_id}: {exc}; asking again in {delay:.0f} s", "warning")
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, self.max_poll_s)
                    continue
                if status.state != last:
                    last = status.state
                    self.batch_log.set_state(batch_id, status.state)
                self._event(name, batch_id, round_no, status.state, status.total, status.succeeded, status.failed)
                if status.ended:
                    break
                await asyncio.sleep(delay)
                delay = min(delay * 1.5, self.max_poll_s)
            results: dict[str, Outcome] = {}
            while status.state != "failed":
                try:
                    results = await api.results(batch_id)
                    break
                except Retryable as exc:
                    self.reporter.log(f"batch {batch_id}: {exc}; fetching again in {delay:.0f} s", "warning")
                    await asyncio.sleep(delay)
            self._resolve(name, batch_id, round_no, status.state, results, status.message)
        except Exception as exc:  # a rejected key, a broken answer: its items fail (resume polls it again)
            self._fail([row["custom_id"] for row in self.batch_log.requests(batch_id)], exc)

    def _fail(self, custom_ids: list[str], exc: BaseException) -> None:
        for cid in custom_ids:
            future = self._results.pop(cid, None)
            if future is not None and not future.done():
                future.set_exception(exc)
                future.exception()  # retrieved: the item's own await re-raises it

    def _resolve(
        self, name: str, batch_id: str, round_no: int, state: str, results: dict[str, Outcome], why: str | None
    ) -> None:
        """Log every answer the batch gave, each under its own custom_id; hand each to its item."""
        kind, missing = self.service.line(name).config.kind, 0
        for row in self.batch_log.requests(batch_id):
            cid = row["custom_id"]
            outcome = results.get(cid, f"no result: the batch {state}" + (f" ({why})" if why else ""))
            if isinstance(outcome, Completion):
                price = batch_price(self.service.price(name, row["model"]), kind)
                cost = call_cost(price, outcome.input_tokens, outcome.output_tokens)
                if self.store.cached(cid) is None:  # a resumed run may fetch a batch logged before the kill
                    self._log(name, row, outcome, cost)
                self.service.spent.add(f"{name}:{row['model']}", cost)
            else:
                missing += 1
            future = self._results.get(cid)
            if future is not None and not future.done():
                future.set_result(outcome)
        self.batch_log.set_state(batch_id, state, resolved=True)
        if missing:
            self.counts["batch_missing"] += missing
            self.reporter.log(
                f"batch {batch_id} of {name} ended {state} with {missing} of its requests unanswered: "
                "they are asked live",
                "warning",
            )

    def _log(self, name: str, row: dict[str, Any], completion: Completion, cost: float | None) -> None:
        # stored at once (a batch's answers arrive together, outside any item's task); a write the
        # catalog refuses ends the poll, and resume fetches the batch's results again
        self.store.log_call(
            cache_key=row["custom_id"],
            run_id=self.run_id,
            item_id=row["item_id"],
            turn=row["turn"],
            provider=name,
            model=row["model"],
            request=json.loads(row["request_json"]),
            response_text=completion.text,
            refused=completion.refused,
            finish_reason=completion.finish_reason,
            input_tokens=completion.input_tokens,
            output_tokens=completion.output_tokens,
            latency_s=None,  # hours in a batch: not the pace of a live call
            cost_usd=cost,
            truncated=completion.truncated,
        )

    def _event(
        self, name: str, batch_id: str, round_no: int, state: str, total: int, succeeded: int = 0, failed: int = 0
    ) -> None:
        message = f"batch {batch_id} of {name} (round {round_no}): {state}, {succeeded + failed}/{total} answered"
        self.reporter.emit(
            "batch",
            provider=name,
            batch_id=batch_id,
            round=round_no,
            state=state,
            total=total,
            succeeded=succeeded,
            failed=failed,
            message=message,
        )
        self.reporter.progress(self.counts["done"], self._total, message)

    def _chunks(self, queue: dict[str, _Queued], api: BatchAPI) -> list[dict[str, tuple[_Queued, dict[str, Any]]]]:
        """The queue as batches within the providers' limits (requests and bytes)."""
        chunks: list[dict[str, tuple[_Queued, dict[str, Any]]]] = [{}]
        size = 0
        for cid, q in queue.items():
            body = api.body(q.model, q.messages, self.params)
            n = len(json.dumps(body))
            if chunks[-1] and (len(chunks[-1]) >= MAX_BATCH_REQUESTS or size + n > MAX_BATCH_BYTES):
                chunks.append({})
                size = 0
            chunks[-1][cid] = (q, body)
            size += n
        return chunks
