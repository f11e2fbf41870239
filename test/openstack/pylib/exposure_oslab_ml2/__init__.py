"""ML2 mechanism driver `bind_all`, for the test lab only.

In a real cloud an L2 agent (Open vSwitch, linuxbridge) or OVN binds each port to its host. The lab runs no
agent, so without this driver every port would end up `binding_failed` and Nova would put the server in
ERROR (PortBindingFailed). This driver says yes to every binding request, on any host and any segment, and
marks the port ACTIVE. It creates no device and sends no RPC; Nova's fake virt driver needs nothing more.

Neutron finds it by name through the entry point in exposure_oslab_ml2-0.1.dist-info/entry_points.txt;
lab.sh puts this folder on neutron-server's PYTHONPATH only.
"""
from neutron_lib import constants
from neutron_lib.api.definitions import portbindings
from neutron_lib.plugins.ml2 import api


class BindAllDriver(api.MechanismDriver):
    def initialize(self):
        pass

    def bind_port(self, context):
        if not context.segments_to_bind:
            return
        segment = context.segments_to_bind[0]
        # vif_type ovs: the most common real value, so ports look like a normal cloud's to API readers.
        context.set_binding(segment[api.ID], portbindings.VIF_TYPE_OVS,
                            {portbindings.CAP_PORT_FILTER: False},
                            status=constants.PORT_STATUS_ACTIVE)
