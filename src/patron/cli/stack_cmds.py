"""`patron local` and `patron demo`: thin calls into patron.local and patron.demo."""

from __future__ import annotations

import click


@click.command("local")
@click.option("--port", type=int, default=8000, show_default=True, help="the API's port")
@click.option("--aws-port", type=int, default=5000, show_default=True, help="the embedded AWS's port")
def local(port: int, aws_port: int) -> int:
    """Run the whole stack locally on an embedded AWS (Ctrl-C stops it)."""
    from patron.local import serve

    return serve(port, aws_port)


@click.command("demo")
@click.option(
    "--customers", type=int, default=300, show_default=True, help="customers of the simulated store"
)
@click.option("--seed", type=int, default=7, show_default=True, help="seed of the simulated store")
@click.option("--port", type=int, default=8000, show_default=True, help="the API's port")
@click.option("--aws-port", type=int, default=5000, show_default=True, help="the embedded AWS's port")
@click.option("--keep-running", is_flag=True, help="keep serving after the summary")
def demo(customers: int, seed: int, port: int, aws_port: int, keep_running: bool) -> int:
    """Run the local stack and a simulated store against it, ending with a checked summary."""
    from patron.demo import run_demo

    return run_demo(customers=customers, seed=seed, port=port, aws_port=aws_port, keep_running=keep_running)


COMMANDS = [local, demo]
