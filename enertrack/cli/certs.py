"""`enertrack certs init`: a private CA and the broker's server certificate, SANs from DOMINIO."""

from __future__ import annotations

from pathlib import Path

import click

from enertrack.cli.common import fail, settings_or_exit


@click.group()
def certs() -> None:
    """TLS certificates for the Mosquitto broker (installations without a public certificate)."""


@certs.command("init")
@click.option("--dir", "directory", type=click.Path(file_okay=False, path_type=Path), default=Path("certs"),
              show_default=True, help="Where ca.crt, ca.key, server.crt and server.key go.")
@click.option("--san", "sans", multiple=True, metavar="NAME",
              help="Another host name or IP address the broker is reached by (repeatable), e.g. the compose "
                   "service name: --san mosquitto.")
@click.option("--force", is_flag=True, help="Replace an existing server certificate (the CA is kept).")
def certs_init(directory: Path, sans: tuple[str, ...], force: bool) -> None:
    """Create a private CA (once) and a server certificate for DOMINIO and every --san."""
    from enertrack.cli.pki import CA_DAYS, SERVER_DAYS, PkiError, init_pki

    settings = settings_or_exit()
    try:
        files, new_ca = init_pki(directory, [settings.mqtt_host, *sans], force=force)
    except PkiError as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"cannot write the certificates in {directory}: {exc.strerror} ({exc.filename})")
    names = ", ".join(dict.fromkeys([settings.mqtt_host.lower(), *sans]))
    click.echo(f"{'new CA' if new_ca else 'existing CA kept'}: {files.ca_cert} (valid {CA_DAYS} days; its key "
               f"{files.ca_key} signs server certificates: keep it offline)")
    click.echo(f"server certificate for {names}: {files.server_cert} and {files.server_key} "
               f"(valid {SERVER_DAYS} days)")
    click.echo("Mosquitto: certfile/keyfile = the server files; devices and MQTT_CA_FILE: the CA certificate.")
