"""`vspectrum providers test NAME`: one tiny call through the model-calling service, and the
exact cause when it fails."""

from __future__ import annotations

from vspectrum_app.core.secrets import redact
from vspectrum_app.providers.clients import Message, Params
from vspectrum_app.providers.config import ProviderStore
from vspectrum_app.providers.errors import ProviderCallError
from vspectrum_app.providers.service import ModelService


async def probe_provider(name: str, model: str | None = None) -> tuple[bool, str]:
    store = ProviderStore()
    config = store.get(name)
    model = model or (config.models[0] if config.models else None)
    if not model:
        return False, f"provider {name} has no model configured: give --model"
    service = ModelService(store)
    line = service.open(config)
    if line.dead:
        return False, line.dead
    try:
        ask = [Message("user", "Reply with the word: ok")]
        result = await service.call(name, model, ask, Params(max_tokens=5), attempts=1)  # the cause, not a retry
        return True, f"{name}: {model} answered {result.completion.text.strip()[:40]!r}"
    except ProviderCallError as exc:
        return False, f"{name}: {exc}"
    except Exception as exc:
        return False, f"{name}: {type(exc).__name__}: {redact(str(exc))[:200]}"
    finally:
        await service.close()
