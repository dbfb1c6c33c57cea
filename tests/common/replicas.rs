//! The emulator and clients of the controller tests (`controller.rs`, `eip.rs`): the demo
//! topology with every change taking 150 ms, and replicas that poll every 20 ms.

use std::time::Duration;

use alibabacloud_ens::emulator::Emulator;
use alibabacloud_ens::waiter::WaiterSchedule;
use alibabacloud_ens::Client;

/// The demo topology; HAVIPs, associations and EIP bindings change in 150 ms.
pub async fn quick_emulator() -> Emulator {
    let quick = Duration::from_millis(150);
    Emulator::builder()
        .demo()
        .associate_delay(quick)
        .unassociate_delay(quick)
        .create_delay(quick)
        .delete_delay(quick)
        .eip_associate_delay(quick)
        .eip_unassociate_delay(quick)
        .start()
        .await
        .unwrap()
}

/// A replica's client: polls every 20 ms (the client-wide schedule), gives up after 20 s.
pub fn replica(emu: &Emulator) -> Client {
    emu.client_builder()
        .waiter_schedule(
            WaiterSchedule::polling_every(Duration::from_millis(20))
                .with_max_wait(Duration::from_secs(20)),
        )
        .build()
        .unwrap()
}
