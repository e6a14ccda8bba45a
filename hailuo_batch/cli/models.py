"""`hailuo-batch models`: what can be made where, from the one capability table."""

from __future__ import annotations

import click

from hailuo_batch.cli.commands import EXIT_BAD_INPUT, cli, orjson_dumps


@cli.command()
@click.argument("model", required=False)
@click.option("--provider", help="Only the offers of this provider.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def models(model: str | None, provider: str | None, as_json: bool) -> None:
    """List every model, the providers that sell it, their wire ids, limits, published
    prices, and how sure each fact is (H: the provider's own docs or code; M: several
    consistent secondary sources; L: one; UNVERIFIED: none).

    \b
    Example:
      hailuo-batch models
      hailuo-batch models hailuo-02 --json
      hailuo-batch models --provider fal
    """
    from hailuo_batch.core.catalog import catalog

    entries = catalog()
    if model is not None:
        entries = [entry for entry in entries if entry.model == model.lower()]
        if not entries:
            known = ", ".join(entry.model for entry in catalog())
            click.echo(f"error: no model {model!r}; models are {known}", err=True)
            raise SystemExit(EXIT_BAD_INPUT)
    if provider is not None:
        entries = [
            type(entry)(
                entry.model,
                entry.title,
                entry.durations,
                entry.resolutions,
                entry.features,
                [sale for sale in entry.sales if sale.provider == provider.lower()],
            )
            for entry in entries
        ]
        entries = [entry for entry in entries if entry.sales]
        if not entries:
            click.echo(f"error: provider {provider!r} sells none of these", err=True)
            raise SystemExit(EXIT_BAD_INPUT)
    if as_json:
        click.echo(orjson_dumps([entry.to_json() for entry in entries]))
        return
    for entry in entries:
        seconds = "/".join(str(d) for d in entry.durations)
        if len(entry.durations) > 3:
            seconds = f"{entry.durations[0]}-{entry.durations[-1]}"
        click.echo(
            f"{entry.model}  {entry.title}: {seconds} s, {'/'.join(entry.resolutions)}"
            + (f"; {'; '.join(entry.features)}" if entry.features else "")
        )
        for sale in entry.sales:
            price = ", ".join(
                [f"{key} ${usd:.2f}" for key, usd in sale.prices.items()]
                + [f"{res} ${usd:.3f}/s" for res, usd in sale.per_second.items()]
            )
            limits = f" [{'; '.join(sale.limits)}]" if sale.limits else ""
            click.echo(
                f"  {sale.provider:<9} {sale.confidence:<10} {sale.wire}{limits}"
                f"  price: {price or 'unknown (set prices: in the manifest)'}"
            )
        click.echo("")
    click.echo(
        "Confidence: H provider's own docs or code; M consistent secondary sources; "
        "L one source; UNVERIFIED none. Sources: docs/providers/."
    )
