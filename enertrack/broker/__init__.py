"""Broker accounts: each node's own credentials, issued and revoked over Mosquitto's dynamic security."""

from enertrack.broker.dynsec import BrokerError, BrokerRefused, BrokerUnavailable
from enertrack.broker.provisioner import (
    DynsecProvisioner,
    OffProvisioner,
    Provisioner,
    SyncReport,
    make_provisioner,
)

__all__ = ["BrokerError", "BrokerRefused", "BrokerUnavailable", "DynsecProvisioner", "OffProvisioner",
           "Provisioner", "SyncReport", "make_provisioner"]
