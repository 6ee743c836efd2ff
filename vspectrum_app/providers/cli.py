"""``vspectrum keys|providers ...``: model providers and their API keys."""

from __future__ import annotations

import argparse
import getpass
import sys

from vspectrum_app.core.command import CommandContext
from vspectrum_app.core.operations import add_parser
from vspectrum_app.providers import ops


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    _register_keys(sub)
    _register_providers(sub)


# -- keys ---------------------------------------------------------------------------------


def _register_keys(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("keys", help="API keys in the system keyring")
    cmds = p.add_subparsers(dest="keys_command", metavar="COMMAND")
    c = cmds.add_parser("set", help="store a provider's key (read from stdin or a hidden prompt)")
    c.add_argument("provider")
    c.add_argument(
        "--store",
        choices=("keyring", "file"),
        default="keyring",
        help="where to keep it: the system keyring (default), or, where there is none, a key file "
        "readable only by you (not encrypted)",
    )
    c.set_defaults(func=cmd_keys_set)
    c = cmds.add_parser("delete", help="remove a provider's key from the keyring")
    c.add_argument("provider")
    c.set_defaults(func=cmd_keys_delete)
    c = cmds.add_parser("status", help="which providers have a key, and where it comes from (never the key)")
    c.set_defaults(func=cmd_keys_status)


def cmd_keys_set(args: argparse.Namespace, ctx: CommandContext) -> int:
    from vspectrum_app.core.secrets import set_key

    key = sys.stdin.readline() if not sys.stdin.isatty() else getpass.getpass(f"API key for {args.provider}: ")
    set_key(args.provider, key, store=args.store)
    where = "the system keyring" if args.store == "keyring" else "the key file (readable only by you, not encrypted)"
    print(f"key for {args.provider} stored in {where}")
    return 0


def cmd_keys_delete(args: argparse.Namespace, ctx: CommandContext) -> int:
    from vspectrum_app.core.secrets import delete_key

    print("deleted" if delete_key(args.provider) else f"no key for {args.provider} in the keyring")
    return 0


def cmd_keys_status(args: argparse.Namespace, ctx: CommandContext) -> int:
    from vspectrum_app.core.secrets import key_status, keyring_status
    from vspectrum_app.providers.config import ProviderStore

    print(keyring_status()[1])
    for p in ProviderStore().all():
        status = key_status(p.name, p.kind)
        print(f"{p.name}: {'set (' + str(status.source) + ')' if status.is_set else 'no key'}")
    return 0


# -- providers ----------------------------------------------------------------------------


def _register_providers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("providers", help="configure model providers (OpenAI, Anthropic, Gemini, OpenAI-compatible)")
    cmds = p.add_subparsers(dest="providers_command", metavar="COMMAND")
    c = cmds.add_parser("add", help="add or update a provider")
    c.add_argument("name")
    c.add_argument("--kind", required=True, choices=("openai", "anthropic", "gemini", "openai-compatible"))
    c.add_argument("--base-url")
    c.add_argument("--model", dest="models", action="append", default=[], help="a model name (repeatable)")
    c.add_argument("--concurrency", type=int, default=4)
    c.add_argument("--rpm", type=int, default=60, help="requests per minute (never exceeded)")
    c.add_argument("--tpm", type=int, help="tokens per minute")
    c.add_argument("--price-in", type=float, default=0.0, help="USD per million input tokens (estimates)")
    c.add_argument("--price-out", type=float, default=0.0, help="USD per million output tokens (estimates)")
    c.add_argument("--timeout", type=float, default=60.0, help="seconds per request")
    c.set_defaults(func=cmd_providers_add)
    c = cmds.add_parser("list", help="configured providers")
    c.add_argument("--json", action="store_true")
    c.set_defaults(func=cmd_providers_list)
    c = cmds.add_parser("remove", help="remove a provider (its key stays in the keyring)")
    c.add_argument("name")
    c.set_defaults(func=cmd_providers_remove)
    c = add_parser(cmds, ops.Check, help="one tiny call: success, or the exact cause")
    c.set_defaults(func=cmd_providers_test)


def cmd_providers_add(args: argparse.Namespace, ctx: CommandContext) -> int:
    from vspectrum_app.providers.config import ProviderConfig, ProviderStore

    config = ProviderConfig(
        name=args.name,
        kind=args.kind,
        base_url=args.base_url,
        models=args.models,
        concurrency=args.concurrency,
        requests_per_minute=args.rpm,
        tokens_per_minute=args.tpm,
        price_input_per_mtok=args.price_in,
        price_output_per_mtok=args.price_out,
        timeout_s=args.timeout,
    )
    ProviderStore().save(config)
    print(f"provider {config.name} saved")
    return 0


def cmd_providers_list(args: argparse.Namespace, ctx: CommandContext) -> int:
    from vspectrum_app.core.secrets import key_status
    from vspectrum_app.providers.config import ProviderStore

    providers = ProviderStore().all()
    if ctx.json:
        ctx.print_json([{**p.shown_json(), "key_set": key_status(p.name, p.kind).is_set} for p in providers])
        return 0
    for p in providers:
        key = key_status(p.name, p.kind)
        print(
            f"{p.name} ({p.kind}) {p.shown_base_url or 'default endpoint'}; models: {', '.join(p.models) or '-'}; "
            f"{p.concurrency} at once, {p.requests_per_minute}/min; key: {key.source or 'not set'}"
        )
    return 0


def cmd_providers_remove(args: argparse.Namespace, ctx: CommandContext) -> int:
    from vspectrum_app.providers.config import ProviderStore

    ProviderStore().remove(args.name)
    print(f"provider {args.name} removed")
    return 0


def cmd_providers_test(args: argparse.Namespace, ctx: CommandContext) -> int:
    params = ctx.params(ops.Check, args)
    checked = ops.run(params)
    if not ctx.result(params, checked):
        print(checked.message, file=sys.stdout if checked.ok else sys.stderr)
    return 0 if checked.ok else 1
