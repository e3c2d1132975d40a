"""`patron local`, `patron demo` and `patron console`: thin calls into patron.local and patron.demo."""

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


@click.command("console")
@click.option("--json", "as_json", is_flag=True, help="one line of JSON: url, workspace_id, api_key")
def console(as_json: bool) -> int:
    """Print the running local stack's web console URL and an API key that signs in to it
    (the demo's workspace; docs/console.md)."""
    import json

    from patron.demo.simulation import console_line
    from patron.local import running_stack

    state = running_stack()
    url = f"{state['api_url']}/console"
    found = state.get("console") or {}
    if as_json:
        click.echo(
            json.dumps(
                {"url": url, "workspace_id": found.get("workspace_id"), "api_key": found.get("api_key")}
            )
        )
    elif found.get("api_key"):
        click.echo(console_line(state["api_url"], found["api_key"]))
        click.echo(f"workspace: {found.get('workspace_id')}")
    else:
        click.echo(f"console: {url}")
        click.echo(
            "no demo workspace on this stack: sign in with the api_key that "
            "`patron workspace create NAME --json` prints"
        )
    return 0


COMMANDS = [local, demo, console]
