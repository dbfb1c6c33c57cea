//! The demo topology: one resource for every AssociateHaVip outcome.
//!
//! See the table in the [module documentation](super) for what each resource answers.

use crate::HaVipStatus;

use super::state::{
    InstanceStatus, NetworkInterfaceStatus, NetworkInterfaceType, State, DEFAULT_ENS_REGION_ID,
    DEFAULT_NETWORK_ID,
};

/// Seeds the demo resources into `state`.
pub(crate) fn seed_state(state: &mut State) {
    state.add_vswitch("vsw-demo", DEFAULT_ENS_REGION_ID, DEFAULT_NETWORK_ID, None);
    state.add_vswitch("vsw-other", DEFAULT_ENS_REGION_ID, DEFAULT_NETWORK_ID, None);

    state.add_ha_vip("havip-demo", "vsw-demo", HaVipStatus::Available);
    state.add_ha_vip("havip-creating", "vsw-demo", HaVipStatus::Creating);

    state.add_instance("i-demo", "vsw-demo", InstanceStatus::Running);
    state.add_instance("i-demo-2", "vsw-demo", InstanceStatus::Running);
    state.add_instance("i-stopped", "vsw-demo", InstanceStatus::Stopped);
    state.add_instance("i-starting", "vsw-demo", InstanceStatus::Starting);
    state.add_instance("i-other", "vsw-other", InstanceStatus::Running);

    state.add_network_interface(
        "eni-demo",
        "vsw-demo",
        NetworkInterfaceType::Primary,
        NetworkInterfaceStatus::Available,
    );
    state.add_network_interface(
        "eni-secondary",
        "vsw-demo",
        NetworkInterfaceType::Secondary,
        NetworkInterfaceStatus::Available,
    );
    state.add_network_interface(
        "eni-busy",
        "vsw-demo",
        NetworkInterfaceType::Primary,
        NetworkInterfaceStatus::Attaching,
    );
}
