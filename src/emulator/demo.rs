//! The demo topology: one resource for every AssociateHaVip outcome, and EIPs for
//! AssociateEnsEipAddress.
//!
//! See the table in the [module documentation](super) for what each resource answers.

use std::net::Ipv4Addr;

use crate::HaVipStatus;

use super::state::{
    EipInstanceType, EipStatus, InstanceSeed, InstanceStatus, NetworkInterfaceStatus,
    NetworkInterfaceType, State, DEFAULT_ENS_REGION_ID, DEFAULT_NETWORK_ID,
};

/// The ENS region of the demo's EIP that no demo resource shares.
pub(crate) const FAR_REGION: &str = "cn-beijing-emulator";

/// Seeds the demo resources into `state`.
pub(crate) fn seed_state(state: &mut State) {
    state.add_vswitch("vsw-demo", DEFAULT_ENS_REGION_ID, DEFAULT_NETWORK_ID, None);
    state.add_vswitch("vsw-other", DEFAULT_ENS_REGION_ID, DEFAULT_NETWORK_ID, None);

    state.add_ha_vip("havip-demo", "vsw-demo", HaVipStatus::Available);
    state.add_ha_vip("havip-creating", "vsw-demo", HaVipStatus::Creating);

    // Each with its primary ENI, named after it.
    for (id, vswitch, status, eni) in [
        ("i-demo", "vsw-demo", InstanceStatus::Running, "eni-demo"),
        (
            "i-demo-2",
            "vsw-demo",
            InstanceStatus::Running,
            "eni-demo-2",
        ),
        (
            "i-stopped",
            "vsw-demo",
            InstanceStatus::Stopped,
            "eni-stopped",
        ),
        (
            "i-starting",
            "vsw-demo",
            InstanceStatus::Starting,
            "eni-starting",
        ),
        ("i-other", "vsw-other", InstanceStatus::Running, "eni-other"),
    ] {
        let seed = InstanceSeed::new(id, vswitch)
            .status(status)
            .primary_network_interface_id(eni);
        // No address is given: nothing can be refused.
        let _ = state.add_instance_with(&seed);
    }

    state.add_network_interface(
        "eni-secondary",
        "vsw-demo",
        NetworkInterfaceType::Secondary,
        NetworkInterfaceStatus::Available,
    );
    state.attach_network_interface("eni-secondary", "i-demo");
    state.add_network_interface(
        "eni-busy",
        "vsw-demo",
        NetworkInterfaceType::Primary,
        NetworkInterfaceStatus::Attaching,
    );

    // Documentation addresses (TEST-NET-3).
    state.add_eip(
        "eip-demo",
        Ipv4Addr::new(203, 0, 113, 10),
        DEFAULT_ENS_REGION_ID,
    );
    state.add_eip(
        "eip-demo-2",
        Ipv4Addr::new(203, 0, 113, 11),
        DEFAULT_ENS_REGION_ID,
    );
    state.add_eip(
        "eip-in-use",
        Ipv4Addr::new(203, 0, 113, 12),
        DEFAULT_ENS_REGION_ID,
    );
    state.add_eip_association(
        "eip-in-use",
        "i-other",
        EipInstanceType::EnsInstance,
        EipStatus::InUse,
    );
    state.add_eip("eip-far", Ipv4Addr::new(203, 0, 113, 13), FAR_REGION);
}
