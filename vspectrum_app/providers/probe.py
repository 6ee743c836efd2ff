"""`vspectrum providers test NAME`: one tiny call, and the exact cause when it fails."""

from __future__ import annotations

from vspectrum_app.core.secrets import redact
from vspectrum_app.providers.clients import Message, Params, make_client
from vspectrum_app.providers.config import ProviderStore
from vspectrum_app.providers.errors import ProviderCallError


async def probe_provider(name: str, model: str | None = None) -> tuple[bool, str]:
    config = ProviderStore().get(name)
    model = model or (config.models[0] if config.models else None)
    if not model:
        return False, f"provider {name} has no model configured: give --model"
    try:
        client = make_client(config)
    except Exception as exc:
        return False, str(exc)
    try:
        completion = await client.complete(model, [Message("user", "Reply with the word: ok")], Params(max_tokens=5))
        return True, f"{name}: {model} answered {completion.text.strip()[:40]!r}"
    except ProviderCallError as exc:
        return False, f"{name}: {exc}"
    except Exception as exc:
        return False, f"{name}: {type(exc).__name__}: {redact(str(exc))[:200]}"
    finally:
        await client.close()
