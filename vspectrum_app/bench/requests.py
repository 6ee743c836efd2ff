"""What a run sends: each call's record and cache key (the runner's), and the distinct
requests a list of items will send (the estimate's and the runner's time left).

A call's key is its whole conversation (texts, the image's hash, parameters, endpoint) and the
item's repeat, so one image retrieved by several keywords or values is asked once. Counting
walks each item's conversation as the runner does: a turn found in the workspace's call log
is not sent, and its logged answer makes the next turn's key; once a turn must be sent, the
turns after it are sent too (keyed by the unanswered turn, so identical conversations still
count once).
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Mapping

from vspectrum_app.core.answer_words import looks_like_refusal
from vspectrum_app.providers.clients import Message
from vspectrum_app.providers.refs import provider_of, split_label
from vspectrum_app.providers.service import request_record

if TYPE_CHECKING:
    from vspectrum_app.bench.prompts import PromptSet
    from vspectrum_app.providers.clients import Params
    from vspectrum_app.providers.config import ProviderConfig

PROBE = "probe"  # item mode of the acquiescence probe: the reversed question, with the image
Lookup = Callable[[str], "dict[str, Any] | None"]  # cache key -> the logged answer (RunStore.cached)


def call_request(
    config: ProviderConfig, model: str, params: Params, messages: list[Message], image_sha256: str | None, repeat: int
) -> dict[str, Any]:
    """The logged record of a benchmark call: the service's, with the item's repeat."""
    return {**request_record(config, model, params, messages, image_sha256), "repeat": repeat}


def call_key(request: dict[str, Any], nonce: str) -> str:
    """The cache key of a call; ``nonce`` (the run id of a ``--fresh`` run) keeps it private."""
    return hashlib.sha256(json.dumps({**request, "nonce": nonce}, sort_keys=True).encode()).hexdigest()


@dataclass
class Planned:
    """Requests a run will send, per answering target and kind of turn, and those it finds."""

    send: Counter[tuple[str, str]] = field(default_factory=Counter)  # (PROVIDER:MODEL, kind) -> calls
    found: Counter[str] = field(default_factory=Counter)  # PROVIDER:MODEL -> calls answered in the workspace

    @property
    def calls(self) -> int:
        return sum(self.send.values())

    def per_provider(self) -> Counter[str]:
        out: Counter[str] = Counter()
        for (target, _), n in self.send.items():
            out[provider_of(target)] += n
        return out


def plan_requests(
    items: list[dict[str, Any]],
    *,
    prompts: PromptSet,
    params: Params,
    configs: Callable[[str], ProviderConfig],
    describe_with: str | None,
    nonce: str,
    cached: Lookup | None,
    wordings: Mapping[str, str] | None = None,
) -> Planned:
    """The distinct requests ``items`` send, in the runner's order (``configs``: provider name
    -> its configuration; ``cached``: the call log, None when nothing can be found there;
    ``wordings``: variant name -> its like question, for a run with --prompt-variants)."""
    planned = Planned()
    answers: dict[str, tuple[str, bool] | None] = {}  # key -> (text, refused) when logged, None when sent

    def ask(target: str, kind: str, key: str) -> tuple[str, bool] | None:
        if key not in answers:
            hit = cached(key) if cached is not None and not key.startswith("~") else None
            if hit is None:
                planned.send[(target, kind)] += 1
                answers[key] = None
            else:
                planned.found[target] += 1
                answers[key] = (hit["response_text"], bool(hit["refused"]))
        return answers[key]

    def key_for(target: str, messages: list[Message], sha: str | None, repeat: int, after: str | None) -> str:
        if after is not None:  # an earlier turn is sent: this one follows from its (unknown) answer
            return f"~{after}/{len(messages)}"
        provider, model = split_label(target)
        return call_key(call_request(configs(provider), model, params, messages, sha, repeat), nonce)

    def conversation(target: str, first: str, questions: list[tuple[str, str]], sha: str | None, repeat: int) -> None:
        messages, after = [Message("user", first)], None
        answer: tuple[str, bool] | None = None
        for n, (kind, question) in enumerate(questions):
            if n:
                text = answer[0] if answer else ""
                messages = messages + [Message("assistant", text), Message("user", question)]
            key = key_for(target, messages, sha, repeat, after)
            answer = ask(target, kind, key)
            if answer is None:
                after = after or key
            elif answer[1]:
                return  # refused by the API: the conversation stops there

    descriptions: dict[str, str] = {}  # image sha -> the describe call's key
    for item in items:
        target, sha, repeat = item["target"], item["image_sha256"], item["repeat"]
        like = (wordings or {}).get(item.get("variant", ""), prompts.like)  # as the runner words it
        if item["mode"] == PROBE:
            conversation(target, prompts.reversed, [("probe", prompts.reversed)], sha, repeat)
        elif item["mode"] == "vlm":
            turns = [("like", like), ("why", prompts.why), ("describe", prompts.describe)]
            conversation(target, like, turns, sha, repeat)
        elif describe_with is not None:
            if sha not in descriptions:  # asked once per image, with the first item's repeat (as the runner does)
                descriptions[sha] = key_for(describe_with, [Message("user", prompts.describe)], sha, repeat, None)
            described = ask(describe_with, "description", descriptions[sha])
            if described is not None and (described[1] or looks_like_refusal(described[0]) or not described[0].strip()):
                continue  # no description: the text-only model is not asked
            first = prompts.text_question(described[0].strip(), like) if described else ""
            messages = [Message("user", first)]
            after = None if described else f"~text/{descriptions[sha]}/{target}/{repeat}/{like}"
            key = key_for(target, messages, None, repeat, after)
            answer = ask(target, "text1", key)
            if answer is not None and answer[1]:
                continue
            why = messages + [Message("assistant", answer[0] if answer else ""), Message("user", prompts.why)]
            ask(target, "text2", key_for(target, why, None, repeat, None if answer else key))
    return planned
