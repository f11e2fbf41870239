#!/usr/bin/python3
"""Two jobs that need Neutron's own Python code (so: Debian's /usr/bin/python3).

  neutron_tools.py schema DB_URL
      Create Neutron's tables from its SQLAlchemy models. `neutron-db-manage upgrade heads` cannot run on
      SQLite (a Mitaka migration alters constraints, which SQLite lacks); Neutron's unit tests build their
      SQLite schema this same way. lab.sh then runs `neutron-db-manage stamp heads`.

  neutron_tools.py fip-active NEUTRON_CONF ROUTER_ID:FIP_ID...
      Report floating IPs ACTIVE. Without an L3 agent they stay DOWN forever; this makes the RPC call a real
      neutron-l3-agent makes once it has wired a floating IP (update_floatingip_statuses on the L3 plugin's
      topic, RPC API 1.1), so Neutron itself sets the status.
"""
import sys
from collections import defaultdict


def schema(db_url):
    import sqlalchemy
    from neutron.db.migration.models import head

    metadata = head.get_metadata()
    metadata.create_all(sqlalchemy.create_engine(db_url))
    print(f"neutron: {len(metadata.tables)} tables created from the models")


def fip_active(conf, pairs):
    import oslo_messaging
    from neutron.common import config as neutron_config
    from neutron_lib import context
    from neutron_lib import rpc
    from neutron_lib.agent import topics
    from oslo_config import cfg

    neutron_config.register_common_config_options()
    cfg.CONF(["--config-file", conf], project="neutron")
    # oslo.messaging starts a (non-daemon) metrics thread with every RPC client, which keeps a one-shot
    # process alive for metrics_thread_stop_timeout (10 s) after its last call; we have no metrics to wait for.
    cfg.CONF.set_override("metrics_thread_stop_timeout", 0, group="oslo_messaging_metrics")
    rpc.init(cfg.CONF)
    l3_plugin = rpc.get_client(oslo_messaging.Target(topic=topics.L3PLUGIN, version="1.1")).prepare(timeout=60)
    by_router = defaultdict(dict)
    for pair in pairs:
        router_id, fip_id = pair.split(":")
        by_router[router_id][fip_id] = "ACTIVE"
    for router_id, statuses in by_router.items():
        l3_plugin.call(context.get_admin_context(), "update_floatingip_statuses",
                       router_id=router_id, fip_statuses=statuses)
        print(f"neutron: {len(statuses)} floating IP(s) of router {router_id} reported ACTIVE")
    rpc.cleanup()


if __name__ == "__main__":
    if sys.argv[1] == "schema":
        schema(sys.argv[2])
    elif sys.argv[1] == "fip-active":
        fip_active(sys.argv[2], sys.argv[3:])
    else:
        sys.exit(__doc__)
