//! An embedded, stateful ENS endpoint for the HAVIP operations and their neighbours: the
//! example's default target, the tests' peer, and a test double for your own code.
//!
//! Enabled by the `emulator` feature. It listens on a local TCP port and answers like the ENS
//! gateway would: it checks V1 (HMAC-SHA1) and V3 (`ACS3-HMAC-SHA256`) signatures, timestamps,
//! nonces and STS tokens, serves the whole HAVIP lifecycle (`CreateHaVip`, `DescribeHaVips`,
//! `AssociateHaVip`, `UnassociateHaVip`, `ModifyHaVipAttribute`, `DeleteHaVips`) and what a
//! failover controller asks around it (`DescribeInstances`, `DescribeNetworkInterfaces`,
//! `DescribeEnsEipAddresses`, `AssociateEnsEipAddress`, `UnAssociateEnsEipAddress`: see
//! [The neighbours of an HAVIP](#the-neighbours-of-an-havip)) against an in-memory model of
//! vSwitches (with CIDRs), instances and their ENIs, HAVIPs and EIPs, answers any other action
//! like the gateway answers an unknown one (404 `InvalidAction.NotFound`, naming it), and can
//! be told to misbehave (throttle, fail, hang, drop connections, answer HTML…) on demand, for any action.
//! On the same port it also serves an STS and an instance metadata service, so that every
//! credentials source of [`credentials`](crate::credentials) runs with no cloud (see
//! [STS and instance metadata](#sts-and-instance-metadata)).
//!
//! [`Emulator::client`] returns a client ready to talk to it.
//!
//! Where to look in the source (`src/emulator/`): `mod.rs` (this API), `server.rs` (HTTP,
//! time limits, dispatch, request log), `params.rs` (decoding the query and form body into typed
//! parameters), `auth.rs` (the gateway's authentication checks, in order), `state.rs`
//! (resources and the rules of each HAVIP operation), `neighbours.rs` (the neighbours' answers
//! and rules), `sts.rs` (the STS and the credentials it
//! issues), `metadata.rs` (the instance metadata service), `faults.rs`, `demo.rs`, `tests.rs`.
//!
//! # Starting it in a test
//!
//! ```
//! use alibabacloud_ens::emulator::{Emulator, InstanceStatus};
//! use alibabacloud_ens::HaVipStatus;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> std::io::Result<()> {
//! let emu = Emulator::start().await?;          // 127.0.0.1, a free port, empty state
//! emu.add_ha_vip("havip-1", "vsw-1", HaVipStatus::Available);
//! emu.add_instance("i-1", "vsw-1", InstanceStatus::Running);
//!
//! let endpoint = emu.endpoint();               // "http://127.0.0.1:PORT"
//! let credentials = emu.credentials();         // the key the emulator accepts
//! # let _ = (endpoint, credentials);
//! // … point the client at `endpoint` with `credentials`, call AssociateHaVip …
//!
//! let havip = emu.ha_vip("havip-1").unwrap();  // inspect the state directly
//! assert_eq!(havip.status, HaVipStatus::Available);
//! # Ok(())
//! # }
//! ```
//!
//! [`Emulator::builder`] changes the defaults; [`Emulator::start_demo`] starts with the demo
//! topology below. Dropping the [`Emulator`] stops the server; [`Emulator::shutdown`] does the
//! same and waits until the listener is closed.
//!
//! The server runs as tasks on the Tokio runtime that started it. With a current-thread
//! runtime (the `#[tokio::test]` default) it makes progress only while the test `.await`s, so
//! never block that thread (no `std::thread::sleep`, no blocking client) while a request is in
//! flight.
//!
//! # Talking to it without the client
//!
//! Any HTTP client works; sign with [`signer`](crate::signer):
//!
//! ```
//! use alibabacloud_ens::emulator::{Emulator, DEFAULT_ACCESS_KEY_SECRET};
//! use alibabacloud_ens::signer::{self, v1, SigningParams};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let emu = Emulator::start_demo().await?;
//! let nonce = signer::new_nonce()?;
//! let signing = SigningParams::new(
//!     emu.access_key_id(),
//!     DEFAULT_ACCESS_KEY_SECRET,
//!     time::OffsetDateTime::now_utc(),
//!     &nonce,
//! );
//! let signed = v1::sign("POST", "AssociateHaVip", "2017-11-10",
//!                       &[("HaVipId", "havip-demo"), ("InstanceId", "i-demo")], &signing);
//! let resp = reqwest::Client::builder().no_proxy().build()?
//!     .post(format!("{}/?{}", emu.endpoint(), signed.to_query()))
//!     .send()
//!     .await?;
//! assert_eq!(resp.status(), 200);
//! emu.complete_transitions();
//! assert!(emu.ha_vip("havip-demo").unwrap().is_in_use_by("i-demo"));
//! # Ok(())
//! # }
//! ```
//!
//! # Defaults
//!
//! | setting | default | builder |
//! |---|---|---|
//! | listen address | `127.0.0.1:0` (a free port) | [`listen`] |
//! | AccessKey id / secret | `emulator-access-key-id` / `emulator-access-key-secret` | [`credentials`], [`add_key`] |
//! | AssociateHaVip takes | 2 s | [`associate_delay`] |
//! | UnassociateHaVip takes | 1 s | [`unassociate_delay`] |
//! | CreateHaVip's `Creating` lasts | 1 s | [`create_delay`] |
//! | DeleteHaVips' `Deleting` lasts | 1 s | [`delete_delay`] |
//! | AssociateEnsEipAddress takes | 2 s | [`eip_associate_delay`] |
//! | UnAssociateEnsEipAddress takes | 1 s | [`eip_unassociate_delay`] |
//! | page size (`PageSize`) | 10 (DescribeHaVips, DescribeInstances, DescribeEnsEipAddresses), 50 (DescribeNetworkInterfaces); at most 100 | — |
//! | vSwitch CIDR | `10.0.k.0/24` for the k-th vSwitch (from 0) | [`Emulator::add_vswitch_with_cidr`] |
//! | ids per DeleteHaVips | at most 100 | — |
//! | instances per HAVIP | 10 | [`max_instances_per_ha_vip`] |
//! | HAVIPs per instance or ENI | 5 | [`max_ha_vips_per_instance`] |
//! | clock skew allowed | 15 min | — |
//! | signature nonce | at most 128 bytes (`InvalidParameter.SignatureNonce`) | — |
//! | nonce memory | 30 min, per AccessKey; at most 1 000 000 nonces and about 64 MiB (oldest forgotten first) | — |
//! | request timeout | 30 s to receive a request (head and body, from its first byte), again to write its answer, and for an idle connection to start its next request | [`request_timeout`] |
//! | request body | at most 1 MiB, declared or counted (413) | — |
//! | query string | at most 32 KiB | — |
//! | parameters per request | at most 1 000, query and form together (400 `InvalidParameter`) | — |
//! | request head | at most 128 KiB (hyper refuses larger ones) | — |
//! | request log | last 10 000 requests, at most 16 MiB in all | [`log_requests`] also prints them |
//! | request log, per request | method, action, AccessKey id, nonce, code cut to 128 bytes; at most 32 parameters, names cut to 64 bytes, values to 256, 2 KiB in all; a request that fails authentication is kept as a summary (no key id, nonce or parameters, only how many) | — |
//! | log line | values cut to 64 characters, about 200 for all parameters; control characters escaped | — |
//! | roles `AssumeRole` assumes | any well-formed role ARN | [`ram_role`] |
//! | `AssumeRoleWithOIDC` trusts | none | [`oidc`] |
//! | issued credentials live | the `DurationSeconds` asked (STS), 6 h (metadata) | [`sts_credential_lifetime`] |
//! | instance RAM role | none (the metadata role paths answer 404) | [`instance_ram_role`] |
//! | metadata session token | optional (IMDSv1 answered) | [`metadata_token_required`] |
//! | wall clock (timestamps, credential expiry) | the system clock | [`clock`] |
//!
//! ENS does not publish its association limits; 10 and 5 are the emulator's assumption.
//!
//! Whatever a client sends, one connection holds at most about 1 MiB of body (in one buffer
//! that grows as the body arrives) plus hyper's 128 KiB head buffer, for at most the request
//! timeout per request; past it the connection is closed without an answer (no 408). The
//! request log's bytes are counted (each text's length plus a fixed cost per text, per
//! parameter slot and per record), not only its entries. A body declared or found over 1 MiB
//! is read and thrown away up to 2 MiB, then answered 413 (larger ones are answered at once and
//! the connection closed).
//!
//! # Seeding and the lazy clock
//!
//! Seed with [`Emulator::add_vswitch`], [`add_instance`](crate::emulator::Emulator::add_instance)
//! (or [`add_instance_with`](crate::emulator::Emulator::add_instance_with) and an
//! [`InstanceSeed`] to choose its name, address and primary ENI),
//! [`add_network_interface`](crate::emulator::Emulator::add_network_interface) (attached to an
//! instance with [`attach_network_interface`](crate::emulator::Emulator::attach_network_interface)),
//! [`add_ha_vip`](crate::emulator::Emulator::add_ha_vip) and
//! [`add_eip`](crate::emulator::Emulator::add_eip), associations in any status with
//! [`add_association`](crate::emulator::Emulator::add_association), and EIP bindings with
//! [`add_eip_association`](crate::emulator::Emulator::add_eip_association); unknown vSwitches
//! are created on first mention (in ENS region [`DEFAULT_ENS_REGION_ID`], network
//! [`DEFAULT_NETWORK_ID`], CIDR `10.0.k.0/24`). Addresses are the first free ones of the
//! vSwitch's CIDR; a seeded HAVIP's `Name`, instance's `InstanceName` and EIP's `Name` default
//! to their id. Every seeded instance has a primary ENI (`Primary`, `InUse`, its vSwitch and
//! address): [`default_primary_network_interface_id`] (`i-1` → `eni-i-1`) unless named.
//! [`Emulator::eip`] and [`Emulator::ha_vip`] show the state as the Describe actions would.
//!
//! Transitions are computed from [`std::time::Instant`] whenever the state is read: an
//! association made at `t0` shows `Associating` until `t0 + associate_delay`, then `InUse`; an
//! unassociation shows `Unassociating` for `unassociate_delay`, then the association is gone.
//! An HAVIP's own status follows its associations: `Available` with none, `Associating` while
//! its only associations are being made, `Unassociating` while its only associations are being
//! removed, `InUse` as soon as one association is in effect — so an HAVIP already `InUse`
//! *stays* `InUse` while a second association is still `Associating` (the status trap).
//! Statuses other than these four (e.g. `Creating`) set with
//! [`add_ha_vip`](crate::emulator::Emulator::add_ha_vip) or [`set_ha_vip_status`](crate::emulator::Emulator::set_ha_vip_status)
//! stick until changed. A created HAVIP is `Creating` for `create_delay`, then `Available`; a
//! deleted one `Deleting` for `delete_delay`, then gone. An EIP bound at `t0` is `Associating`
//! until `t0 + eip_associate_delay`, then `InUse`; unbound, `Unassociating` for
//! `eip_unassociate_delay`, then `Available`. Tests need not sleep:
//! [`Emulator::complete_transitions`] finishes every pending transition at once, and
//! [`Emulator::set_associate_delay`] (and its siblings) change the delays.
//!
//! # Operations and their errors
//!
//! AssociateHaVip validates, in this order (all HTTP 400): `MissingHaVipId`,
//! `MissingInstanceId`, `InvalidHaVipId`/`InvalidInstanceId` (over 128 characters or outside
//! `[A-Za-z0-9_-]`), `InvalidParameter.InstanceType` (not `EnsInstance`/`NetworkInterface`),
//! `NoPermission` (key added with [`AccessKey::deny`]), `HaVipNotFound`, `InstanceNotFound` /
//! `NetworkInterfaceNotFound`, `IncorrectInstanceStatus` (not `Running`/`Stopped`),
//! `NetworkInterfaceTypeNotSupported` (not [`NetworkInterfaceType::Primary`]),
//! `IncorrectNetworkInterfaceStatus` (not `Available`/`InUse`), `IncorrectInstanceVSwitch`,
//! `IncorrectHaVipStatus` (not `Available`/`InUse`: so a second association is refused while
//! the HAVIP's first one is still `Associating`), `InstanceAlreadyAssociated` (listed in any
//! status), `CountLimitExceed.InstanceOnHaVip`, `CountLimitExceed.HaVipOnInstance`. What can
//! never succeed for this target (its status or type, its vSwitch) is answered before the
//! HAVIP's status, which may be passing: the emulator's assumption (ENS does not document an
//! order), so a client waiting out a busy HAVIP hears a permanent refusal at once.
//!
//! UnassociateHaVip: the same parameter checks, `NoPermission`, `HaVipNotFound`,
//! `InstanceNotAssociated`, `IncorrectInstanceAssociationStatus` (the association is not
//! `InUse`).
//!
//! CreateHaVip: `MissingVSwitchId`, `InvalidVSwitchId`, `InvalidParameter.Amount` (not 1–10, or
//! not 1 with an `IpAddress`), `InvalidParameter.IpAddress` (not IPv4, or outside the vSwitch's
//! CIDR), `InvalidName` (not 1–128 characters, or starting with `http://`/`https://`: the rule
//! ModifyHaVipAttribute documents, applied here too), `InvalidDescription` (over 256
//! characters), `NoPermission`, `InvalidVSwitchId.NotFound`, `InvalidIPAddress.AlreadyUsed` (an
//! HAVIP, instance or ENI of the vSwitch has the address), `InvalidVSwitchId.IpNotEnough` (no
//! free address left). It answers `{"HaVipIds": [...]}`; each new HAVIP (`havip-` and 16 hex
//! digits, an address from the vSwitch's CIDR, the `Name` and `Description` given) is `Creating`
//! for [`create_delay`], then `Available`.
//!
//! DeleteHaVips takes `HaVipIds` as one JSON array string (`["havip-a","havip-b"]`, spaces
//! allowed): `MissingHaVipIds`, `InvalidParameter.HaVipIds` (not a JSON array of 1 to 100 ids),
//! `NoPermission`, then, for each id and before anything is deleted (all or nothing):
//! `HaVipNotFound`, `IncorrectHaVipStatus` when the HAVIP still has an association in any status
//! (the emulator's assumption: ENS documents no code for it; VPC's HAVIP API refuses too) or is
//! not `Available` (`Creating`, or already `Deleting`), or while an EIP is bound to it (in any
//! status; the emulator's assumption, as VPC: unbind the EIP, then the members, then delete).
//! Each HAVIP is then `Deleting` for
//! [`delete_delay`], still listed, then gone.
//!
//! ModifyHaVipAttribute: `MissingHaVipId`, `InvalidHaVipId`, `MissingName` (ENS does not say
//! what a call without `Name` does; the emulator refuses it), `InvalidName`, `NoPermission`,
//! `HaVipNotFound`, `IncorrectHaVipStatus` (`Deleting`).
//!
//! `InvalidIPAddress.AlreadyUsed`, `InvalidVSwitchId.NotFound` and `InvalidVSwitchId.IpNotEnough`
//! are VPC's codes for the same refusals; ENS documents only `NoPermission` and
//! `InvalidParameter.%s` for CreateHaVip and DeleteHaVips, so these are the emulator's
//! assumption too.
//!
//! DescribeHaVips filters on `HaVipId`, `HaVipAddress`, `Name`, `NetworkId`, `VSwitchId`,
//! `EnsRegionId`, `EnsRegionIds.1`…`EnsRegionIds.100` and `Status` (exact matches), pages with
//! `PageNumber` (≥ 1, default 1) and `PageSize` (1–100, default 10), orders by id, and answers
//! `TotalCount`/`PageNumber`/`PageSize` as JSON numbers. Each HAVIP's `AssociatedEipAddresses`
//! lists `{"Eip","EipId"}` for every EIP bound to it `InUse` or `Unassociating` (not yet while
//! `Associating`). Bad paging or region lists answer
//! `InvalidParameter.PageNumber`, `InvalidParameter.PageSize`, `InvalidParameter.EnsRegionIds`.
//! Keys added with [`AccessKey::deny`] get `NoPermission` here too.
//!
//! Every action accepts GET and POST, with parameters in the query and/or an
//! `application/x-www-form-urlencoded` body. Both are decoded with `serde_urlencoded` into a
//! typed parameter struct per action (and one for V1's common parameters), after the emulator's
//! own check: `serde_urlencoded` would pass a malformed `%` escape through as text and decode
//! bytes that are not UTF-8 lossily, where the emulator answers 400 `InvalidParameter`. `+` and
//! `%20` both decode to a space. A parameter name may appear only once in a request (query and
//! form together): a repeated one answers 400 `InvalidParameter`, "The parameter Action is
//! repeated." (`InvalidParameter.EnsRegionIds` for a repeated `EnsRegionIds.N`, likewise for
//! `NetworkInterfaceIds.N`), before authentication. Signatures are checked over the decoded
//! values (V1: every parameter but `Signature`; V3: the query parameters, and the body through
//! `x-acs-content-sha256`). Once authenticated, an action the emulator does not play (not in
//! [`ACTIONS`]) answers what the gateway answers to an unknown action, 404
//! `InvalidAction.NotFound` "Specified api is not found, please check your url and method.",
//! followed by the action's name (escaped with [`log_safe`] and cut to 128 characters: it is
//! whatever the client sent) and the actions the emulator plays; it consumes no fault. The
//! authentication checks and their order are tabled in
//! `src/emulator/auth.rs`; the codes are `SignatureDoesNotMatch` (400, the message shows the
//! server's string to sign), `InvalidAccessKeyId.NotFound` (404), `InvalidTimeStamp.Expired`,
//! `InvalidTimeStamp.Format`, `SignatureNonceUsed`, `InvalidParameter.SignatureNonce` (a nonce
//! over 128 bytes), `IncompleteSignature`, `Missing<Param>`,
//! `InvalidSignatureMethod`, `InvalidSignatureVersion`, `InvalidVersion`,
//! `InvalidSecurityToken.MismatchWithAccessKey`, `InvalidSecurityToken.Malformed` and
//! `UnsupportedHTTPMethod` (all 400). Undecodable requests and repeated parameters get 400
//! `InvalidParameter`, bodies over 1 MiB 413 `InvalidParameter`, paths other than `/` 404
//! `InvalidApi.NotFound`. Error bodies have the
//! gateway's shape, `{"RequestId","HostId":"ens.aliyuncs.com","Code","Message","Recommend"}`
//! with `Content-Type: application/json`, and every JSON answer carries an `x-acs-request-id`
//! header equal to its `RequestId`.
//!
//! # The neighbours of an HAVIP
//!
//! What a failover controller asks besides the HAVIP operations (is the instance `Running`, is
//! it in the HAVIP's vSwitch, which is its primary ENI, a public IP on the HAVIP), played from
//! the same state. Every answer has the shape of the response body model of Alibaba's Python
//! SDK (`alibabacloud-ens20171110` 12.1.0): the wire names of its `to_map()`, with the list
//! wrappers (`{"Instances":{"Instance":[…]}}`), integers as JSON numbers and strings as JSON
//! strings where the SDK has them (so `Cpu` is `"2"` and `AllocationTime` is text). Parameters
//! are read from the query and the form body alike, with the limits above. Filters are exact
//! matches, combined with AND; results are ordered by id; [`AccessKey::deny`] keys get
//! `NoPermission`; bad paging answers `InvalidParameter.PageNumber` (not a whole number ≥ 1) or
//! `InvalidParameter.PageSize` (not 1–100). The pages cited are Alibaba's ENS API reference
//! (`https://www.alibabacloud.com/help/en/ens/developer-reference/api-ens-2017-11-10-<action>`,
//! action in lower case); where they document nothing, the emulator's choice is said.
//!
//! **DescribeInstances** filters on `InstanceId`, `InstanceIds` and `EnsRegionIds` (JSON arrays
//! of at most 100 strings, as the page documents; `[]` matches nothing, as it documents; else
//! `InvalidParameter.InstanceIds`/`.EnsRegionIds`), `InstanceName`, `VSwitchId`, `NetworkId`,
//! `EnsRegionId`, `Status`, `ImageId`, `IntranetIp` and `SearchKey` (a part of the id, name or
//! address), with `PageNumber` (default 1) and `PageSize` (default 10, at most 100: the page's).
//! It answers `{"Code":0,"TotalCount","PageNumber","PageSize","Instances":{"Instance":[…]}}`;
//! each instance shows what the state knows (`InstanceId`, `InstanceName`, `HostName`, `Status`,
//! `EnsRegionId`, `CreationTime`, `NetworkAttributes` `{"NetworkId","VSwitchId",
//! "PrivateIpAddress":{"IpAddress":[…]}}`, `PrivateIpAddresses` `{"PrivateIpAddress":[{"Ip",
//! "GateWay","Isp"}]}`, its ENIs in `NetworkInterfaces` `{"NetworkInterfaces":[…]}` (primary
//! first), the EIPs bound to it in `PublicIpAddress` `{"IpAddress":[…]}` and
//! `PublicIpAddresses`) and constants for the rest (the emulator's: `SpecName`
//! `ens.sn1.small`, `Cpu` `"2"`, `Memory` 4096, `Disk` 20480, a CentOS `ImageId`, empty
//! security groups, disks and tags).
//!
//! **DescribeNetworkInterfaces** filters on `NetworkInterfaceId`, `NetworkInterfaceIds.N` and
//! `EnsRegionIds.N` (N from 1 to 100, else `InvalidParameter.NetworkInterfaceIds`/
//! `.EnsRegionIds`), `InstanceId`, `Type` (`Primary`, `Secondary`), `Status`, `VSwitchId`,
//! `NetworkId`, `EnsRegionId`, `PrimaryIpAddress` and `NetworkInterfaceName`, with `PageSize`
//! default 50, at most 100 (the request's documentation; the response's says 10 and 50). It
//! answers `{"TotalCount","PageNumber","PageSize","NetworkInterfaceSets":
//! {"NetworkInterfaceSet":[…]}}`, each ENI with `NetworkInterfaceId`, `InstanceId` (`""` when
//! attached to nothing), `Type`, `Status`, `VSwitchId`, `NetworkId`, `EnsRegionId`,
//! `PrimaryIp`, `PrivateIpSets` `{"PrivateIpSet":[…]}`, `CreationTime` and, as the
//! emulator's choices, `NetworkInterfaceName` equal to the id and a `MacAddress` in Alibaba's
//! `00:16:3e` range derived from the id.
//!
//! **DescribeEnsEipAddresses** filters on `AllocationId` and `EipAddress` (up to 50
//! comma-separated values, as the page documents; more answer `InvalidParameter.AllocationId`/
//! `.EipAddress`), `EipName`, `AssociatedInstanceId`, `AssociatedInstanceType`, `Status`,
//! `EnsRegionId`, `EnsRegionIds.N` and `Standby` (`true`/`false`, else
//! `InvalidParameter.Standby`), with `PageSize` default 10, at most 100 (the page's). It answers
//! `{"TotalCount","PageNumber","PageSize","EipAddresses":{"EipAddress":[…]}}`, each EIP with
//! `AllocationId`, `IpAddress`, `Name`, `EnsRegionId`, `Status`, `InstanceId` and
//! `InstanceType` (`""` when bound to nothing), `Standby`, `AllocationTime` (milliseconds
//! since the epoch, as text, as the page's example) and constants (`Bandwidth` 5, `ChargeType`
//! `PostPaid`, `InternetChargeType` `95BandwidthByMonth`, empty `OperationLocks` `{"Lock":[]}`
//! and `Tags` `{"Tag":[]}`).
//!
//! **AssociateEnsEipAddress** (`AllocationId`, `InstanceId`, `InstanceType`, `Standby`) binds an
//! EIP asynchronously: `Associating` for [`eip_associate_delay`], then `InUse`; it answers
//! `{"RequestId"}`. `InstanceType` is [`EipInstanceType`]: `EnsInstance` (the default),
//! `NetworkInterface` (a secondary ENI, as the SDK documents), `HaVip` (which the SDK 12.1.0
//! does not list; VPC's AssociateEipAddress takes it, and the emulator does), and `SlbInstance`,
//! `Nat`, `NatSlbInstance`, which the emulator keeps no resources of. Checks, in order (all
//! 400): `MissingAllocationId`, `MissingInstanceId`, `InvalidAllocationId`/`InvalidInstanceId`,
//! `InvalidInstanceType`, `InvalidStandby` (not `true`/`false`), `NoPermission`,
//! `EipNotFound`, `InstanceNotFound` (no such instance, ENI or HAVIP; always for the kinds the
//! emulator does not keep), `IncorrectInstanceRegion` (the EIP's ENS region is not the
//! resource's; ENS binds within an edge node), then the resource's type and status:
//! `IncorrectInstanceStatus` (an instance not `Running`/`Stopped`),
//! `NetworkInterfaceTypeNotSupported` (a primary ENI: bind its instance),
//! `IncorrectNetworkInterfaceStatus` (an ENI not `Available`/`InUse`), `IncorrectHaVipStatus`
//! (an HAVIP not `Available`/`InUse`), then `IncorrectEipStatus` (the EIP is not `Available`: so a call already made, pending or done,
//! is refused when run again) and `InvalidAssociation.Duplicated` (the resource already has an
//! EIP, or a standby one when `Standby=true`). ENS documents `Missing%s`, `Invalid%s`,
//! `InstanceNotFound`, `IncorrectEipStatus` and `EipNotFound` for these two actions; the
//! others are the emulator's choice (ENS's AssociateHaVip codes for the same conditions,
//! `IncorrectInstanceRegion`, and VPC's `InvalidAssociation.Duplicated`), as is the order.
//!
//! **UnAssociateEnsEipAddress** (`AllocationId`, `Force`) unbinds asynchronously:
//! `Unassociating` for [`eip_unassociate_delay`], then `Available`, bound to nothing. Checks:
//! `MissingAllocationId`, `InvalidAllocationId`, `InvalidForce` (not `true`/`false`; the
//! emulator keeps no NAT entries for it to override), `NoPermission`, `EipNotFound`,
//! `IncorrectEipStatus` (not `InUse`), and ENS's
//! `InvalidUnAssociation.UnAssociateStandbyEipFist` (its spelling) for an EIP whose resource
//! also has a standby EIP, which must be unbound first.
//!
//! While bound (`InUse`, or `Unassociating` until it is gone) an EIP shows in its HAVIP's
//! `AssociatedEipAddresses` (DescribeHaVips, [`Emulator::ha_vip`]) or its instance's
//! `PublicIpAddress` (DescribeInstances); an HAVIP with an EIP bound in any status cannot be
//! deleted.
//!
//! # Faults
//!
//! ```
//! use std::time::Duration;
//! use alibabacloud_ens::emulator::{Emulator, Fault, FaultTarget};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> std::io::Result<()> {
//! let emu = Emulator::start_demo().await?;
//! // The next two AssociateHaVip calls are throttled, the third one times out on the client
//! // side but is applied, and the next call of any action gets a 502 HTML page.
//! emu.inject("AssociateHaVip", Fault::throttling(), 2);
//! emu.inject("AssociateHaVip", Fault::Slow { delay: Duration::from_secs(30) }, 1);
//! emu.inject(FaultTarget::Any, Fault::Html { status: 502 }, 1);
//! assert_eq!(emu.faults_pending(), 4);
//! # Ok(())
//! # }
//! ```
//!
//! Faults queue in order; each request that passes authentication takes one use of the oldest
//! fault matching its action. See [`Fault`] for the kinds ([`Fault::DropAfterApply`] is the
//! "write applied, answer lost" case). [`Emulator::requests`] lists what was received and how
//! it was answered, including which fault shaped the answer.
//!
//! # Demo topology
//!
//! [`Emulator::start_demo`], [`EmulatorBuilder::demo`], [`Emulator::seed_demo`] and
//! `ens-emulator --demo` seed this (ENS region `cn-hangzhou-emulator`, network `n-emulator`).
//! What AssociateHaVip answers for `HaVipId=havip-demo` and the given `InstanceId` (for the
//! HAVIP rows: with `InstanceId=i-demo`), and AssociateEnsEipAddress for the EIPs:
//!
//! | resource | kind, vSwitch, status | AssociateHaVip answers |
//! |---|---|---|
//! | `havip-demo` | HAVIP, `vsw-demo`, Available | success with `i-demo`, `i-demo-2`, `i-stopped`, `eni-demo` |
//! | `havip-creating` | HAVIP, `vsw-demo`, Creating | `IncorrectHaVipStatus` |
//! | `i-demo` | instance, `vsw-demo`, Running; primary ENI `eni-demo`, secondary `eni-secondary` | success (`Associating`, then `InUse`) |
//! | `i-demo-2` | instance, `vsw-demo`, Running; primary ENI `eni-demo-2` | success; once `havip-demo` is `InUse` with `i-demo`, this shows the status trap |
//! | `i-stopped` | instance, `vsw-demo`, Stopped; primary ENI `eni-stopped` | success (Stopped is allowed) |
//! | `i-starting` | instance, `vsw-demo`, Starting; primary ENI `eni-starting` | `IncorrectInstanceStatus` |
//! | `i-other` | instance, `vsw-other`, Running; primary ENI `eni-other`; EIP `eip-in-use` | `IncorrectInstanceVSwitch` |
//! | `eni-demo` | ENI (Primary) of `i-demo`, `vsw-demo`, InUse, `i-demo`'s address | success with `InstanceType=NetworkInterface` |
//! | `eni-secondary` | ENI (Secondary) of `i-demo`, `vsw-demo`, InUse | `NetworkInterfaceTypeNotSupported` (an EIP binds to it as `NetworkInterface`) |
//! | `eni-busy` | ENI (Primary), attached to nothing, `vsw-demo`, Attaching | `IncorrectNetworkInterfaceStatus` |
//! | `havip-missing`, `i-missing`, `eni-missing` | (absent) | `HaVipNotFound`, `InstanceNotFound`, `NetworkInterfaceNotFound` |
//!
//! | EIP | address, region, status | AssociateEnsEipAddress answers |
//! |---|---|---|
//! | `eip-demo` | 203.0.113.10, `cn-hangzhou-emulator`, Available | success with `havip-demo` (`InstanceType=HaVip`), `i-demo`, `eni-secondary` |
//! | `eip-demo-2` | 203.0.113.11, `cn-hangzhou-emulator`, Available | success; with `i-other` only as `Standby=true` |
//! | `eip-in-use` | 203.0.113.12, `cn-hangzhou-emulator`, InUse on `i-other` | `IncorrectEipStatus` |
//! | `eip-far` | 203.0.113.13, `cn-beijing-emulator`, Available | `IncorrectInstanceRegion` with any demo resource |
//!
//! # STS and instance metadata
//!
//! The emulator's STS answers `AssumeRole` and `AssumeRoleWithOIDC` (`Version=2015-04-01`, at
//! the emulator's endpoint, path `/`): `AssumeRole` is V1-signed and authenticated exactly like
//! an ENS request (any known key, issued STS keys included); `AssumeRoleWithOIDC` is unsigned
//! and checks the token against the trusts given to [`oidc`]. Every call issues new
//! credentials (`STS.…`, a secret, a `SecurityToken`, an `Expiration` in whole seconds), which
//! ENS then accepts with their token, and refuses with `InvalidSecurityToken.Expired` once
//! expired ([`Emulator::expire_issued_credentials`] expires them all at once). The instance
//! metadata service, under `/latest/`, does the session-token flow
//! (`PUT /latest/api/token` with `X-aliyun-ecs-metadata-token-ttl-seconds`, then `GET`s with
//! `X-aliyun-ecs-metadata-token`) and serves the [`instance_ram_role`]'s rotating
//! credentials. The STS actions, and `MetadataToken`, `MetadataRoleName` and
//! `MetadataCredentials` for the metadata requests, appear in [`Emulator::requests`] and take
//! injected faults like any action (an OIDC token is never kept). The errors are listed in
//! `src/emulator/sts.rs` and `src/emulator/metadata.rs`.
//!
//! ```
//! use std::time::Duration;
//! use alibabacloud_ens::credentials::{EcsRamRoleProvider, RamRoleArnProvider};
//! use alibabacloud_ens::emulator::Emulator;
//! use alibabacloud_ens::Client;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let emu = Emulator::builder()
//!     .demo()
//!     .ram_role("acs:ram::1234567890:role/failover")
//!     .instance_ram_role("failover")
//!     .sts_credential_lifetime(Duration::from_secs(900))
//!     .start()
//!     .await?;
//! // A RAM role assumed with the emulator's key, from the emulator's STS.
//! let role = RamRoleArnProvider::builder(emu.credentials(), "acs:ram::1234567890:role/failover")
//!     .sts_endpoint(emu.endpoint())
//!     .build()?;
//! let client = Client::builder().endpoint(emu.endpoint()).credentials_provider(role).build()?;
//! client.describe_ha_vips().send().await?;
//! // The instance's role, from the emulator's metadata service.
//! let instance = EcsRamRoleProvider::builder().endpoint(emu.endpoint()).build()?;
//! let client = Client::builder().endpoint(emu.endpoint()).credentials_provider(instance).build()?;
//! client.describe_ha_vips().send().await?;
//! assert_eq!(emu.requests().iter().filter(|r| r.action.as_deref() == Some("AssumeRole")).count(), 1);
//! # Ok(())
//! # }
//! ```
//!
//! # Secrets
//!
//! The emulator never logs or echoes an AccessKey secret, an STS token or a signature: the
//! request log and [`RequestRecord`] keep only the API parameters (and only of authenticated
//! requests; never an OIDC token nor an answer's credentials), and the `SignatureDoesNotMatch` message (which shows the server's string to sign,
//! like the gateway) replaces an STS token by `REDACTED`. What it prints (the request log lines,
//! `ens-emulator`'s output) goes through [`log_safe`], so a client cannot forge a line or send
//! terminal escapes.
//!
//! [`Emulator`]: crate::emulator::Emulator
//! [`Emulator::builder`]: crate::emulator::Emulator::builder
//! [`Emulator::start_demo`]: crate::emulator::Emulator::start_demo
//! [`Emulator::shutdown`]: crate::emulator::Emulator::shutdown
//! [`Emulator::add_vswitch`]: crate::emulator::Emulator::add_vswitch
//! [`Emulator::complete_transitions`]: crate::emulator::Emulator::complete_transitions
//! [`Emulator::set_associate_delay`]: crate::emulator::Emulator::set_associate_delay
//! [`Emulator::requests`]: crate::emulator::Emulator::requests
//! [`Emulator::seed_demo`]: crate::emulator::Emulator::seed_demo
//! [`EmulatorBuilder::demo`]: crate::emulator::EmulatorBuilder::demo
//! [`AccessKey::deny`]: crate::emulator::AccessKey::deny
//! [`NetworkInterfaceType::Primary`]: crate::emulator::NetworkInterfaceType::Primary
//! [`DEFAULT_ENS_REGION_ID`]: crate::emulator::DEFAULT_ENS_REGION_ID
//! [`DEFAULT_NETWORK_ID`]: crate::emulator::DEFAULT_NETWORK_ID
//! [`Fault`]: crate::emulator::Fault
//! [`Fault::DropAfterApply`]: crate::emulator::Fault::DropAfterApply
//! [`RequestRecord`]: crate::emulator::RequestRecord
//! [`listen`]: crate::emulator::EmulatorBuilder::listen
//! [`credentials`]: crate::emulator::EmulatorBuilder::credentials
//! [`add_key`]: crate::emulator::EmulatorBuilder::add_key
//! [`associate_delay`]: crate::emulator::EmulatorBuilder::associate_delay
//! [`unassociate_delay`]: crate::emulator::EmulatorBuilder::unassociate_delay
//! [`create_delay`]: crate::emulator::EmulatorBuilder::create_delay
//! [`delete_delay`]: crate::emulator::EmulatorBuilder::delete_delay
//! [`eip_associate_delay`]: crate::emulator::EmulatorBuilder::eip_associate_delay
//! [`eip_unassociate_delay`]: crate::emulator::EmulatorBuilder::eip_unassociate_delay
//! [`Emulator::eip`]: crate::emulator::Emulator::eip
//! [`Emulator::ha_vip`]: crate::emulator::Emulator::ha_vip
//! [`InstanceSeed`]: crate::emulator::InstanceSeed
//! [`EipInstanceType`]: crate::emulator::EipInstanceType
//! [`default_primary_network_interface_id`]: crate::emulator::default_primary_network_interface_id
//! [`ACTIONS`]: crate::emulator::ACTIONS
//! [`Emulator::add_vswitch_with_cidr`]: crate::emulator::Emulator::add_vswitch_with_cidr
//! [`Emulator::client`]: crate::emulator::Emulator::client
//! [`max_instances_per_ha_vip`]: crate::emulator::EmulatorBuilder::max_instances_per_ha_vip
//! [`max_ha_vips_per_instance`]: crate::emulator::EmulatorBuilder::max_ha_vips_per_instance
//! [`log_requests`]: crate::emulator::EmulatorBuilder::log_requests
//! [`request_timeout`]: crate::emulator::EmulatorBuilder::request_timeout
//! [`log_safe`]: crate::emulator::log_safe
//! [`ram_role`]: crate::emulator::EmulatorBuilder::ram_role
//! [`oidc`]: crate::emulator::EmulatorBuilder::oidc
//! [`sts_credential_lifetime`]: crate::emulator::EmulatorBuilder::sts_credential_lifetime
//! [`instance_ram_role`]: crate::emulator::EmulatorBuilder::instance_ram_role
//! [`metadata_token_required`]: crate::emulator::EmulatorBuilder::metadata_token_required
//! [`clock`]: crate::emulator::EmulatorBuilder::clock
//! [`Emulator::expire_issued_credentials`]: crate::emulator::Emulator::expire_issued_credentials

mod auth;
mod demo;
mod faults;
mod metadata;
mod neighbours;
mod params;
mod server;
mod state;
mod sts;
#[cfg(test)]
mod tests;

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime};

use tokio::net::TcpListener;
use tokio::task::JoinHandle;

pub use faults::{Fault, FaultTarget};
use state::Cidr;
pub use state::{
    default_primary_network_interface_id, Eip, EipInstanceType, EipStatus, InstanceSeed,
    InstanceStatus, NetworkInterfaceStatus, NetworkInterfaceType, DEFAULT_ENS_REGION_ID,
    DEFAULT_NETWORK_ID, MAX_DELETE_IDS,
};
pub use sts::STS_ACTIONS;

use crate::{Credentials, HaVip, HaVipStatus, SignatureVersion};

/// The AccessKey id the emulator accepts by default.
pub const DEFAULT_ACCESS_KEY_ID: &str = "emulator-access-key-id";
/// The AccessKey secret the emulator accepts by default.
pub const DEFAULT_ACCESS_KEY_SECRET: &str = "emulator-access-key-secret";
/// The ENS actions the emulator serves: the six HAVIP operations and the five neighbours of an
/// HAVIP. Any other ENS action answers 404 `InvalidAction.NotFound`.
pub const ACTIONS: &[&str] = &[
    "CreateHaVip",
    "DescribeHaVips",
    "AssociateHaVip",
    "UnassociateHaVip",
    "ModifyHaVipAttribute",
    "DeleteHaVips",
    "DescribeInstances",
    "DescribeNetworkInterfaces",
    "DescribeEnsEipAddresses",
    "AssociateEnsEipAddress",
    "UnAssociateEnsEipAddress",
];

/// The API version the emulator accepts (`Version` / `x-acs-version`).
pub(crate) const API_VERSION: &str = "2017-11-10";
/// `HostId` of every error body.
pub(crate) const HOST_ID: &str = "ens.aliyuncs.com";
/// At most this many [`RequestRecord`]s are kept (the oldest are forgotten first).
const MAX_RECORDS: usize = 10_000;
/// The kept [`RequestRecord`]s weigh at most this many bytes in all (see
/// [`RequestRecord::weight`]; the oldest are forgotten first).
pub(crate) const LOG_BUDGET_BYTES: usize = 16 << 20;
/// A record's method, action, AccessKey id, nonce and code are cut to this many bytes.
pub(crate) const RECORD_FIELD_BYTES: usize = 128;
/// A record keeps at most this many API parameters…
pub(crate) const RECORD_MAX_PARAMS: usize = 32;
/// …with names cut to this many bytes…
pub(crate) const RECORD_NAME_BYTES: usize = 64;
/// …and values cut to this many bytes…
pub(crate) const RECORD_VALUE_BYTES: usize = 256;
/// …and at most this many bytes of names and values in all.
pub(crate) const RECORD_PARAM_BYTES: usize = 2048;
/// The default [`EmulatorBuilder::request_timeout`].
const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Locks a mutex, ignoring poisoning (a panicking test thread must not wedge the server).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// An error answer: HTTP status, code, message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ApiError {
    pub status: u16,
    pub code: String,
    pub message: String,
}

impl ApiError {
    pub fn new(status: u16, code: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code: code.into(),
            message: message.into(),
        }
    }

    /// A 400 error.
    pub fn bad(code: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError::new(400, code, message)
    }

    /// 400 `Missing<name>`: a required parameter is absent or blank.
    pub fn missing(name: &str) -> Self {
        ApiError::bad(
            format!("Missing{name}"),
            format!("You must specify the parameter {name}."),
        )
    }
}

/// An AccessKey the emulator accepts, optionally with an STS token, optionally denied.
///
/// ```
/// use alibabacloud_ens::emulator::AccessKey;
/// let sts = AccessKey::new("STS.id", "s3cr3t").security_token("t0k3n");
/// let denied = AccessKey::new("readonly-id", "another-s3cr3t").deny();
/// assert!(!format!("{sts:?}").contains("s3cr3t") && !format!("{sts:?}").contains("t0k3n"));
/// assert_eq!(sts.credentials().security_token(), Some("t0k3n"));
/// # let _ = denied;
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct AccessKey {
    id: String,
    secret: String,
    security_token: Option<String>,
    deny: bool,
    /// Issued by the emulator's STS or metadata service: expires then.
    pub(crate) expires_at: Option<SystemTime>,
}

impl AccessKey {
    /// A key with this id and secret.
    pub fn new(id: impl Into<String>, secret: impl Into<String>) -> Self {
        AccessKey {
            id: id.into(),
            secret: secret.into(),
            security_token: None,
            deny: false,
            expires_at: None,
        }
    }

    /// Requires this STS security token with the key (`SecurityToken` in V1,
    /// `x-acs-security-token` in V3).
    pub fn security_token(mut self, token: impl Into<String>) -> Self {
        self.security_token = Some(token.into());
        self
    }

    /// Authenticates, but every HAVIP operation answers 400 `NoPermission`.
    pub fn deny(mut self) -> Self {
        self.deny = true;
        self
    }

    /// The AccessKey id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The key as client credentials (with its STS token, if any).
    pub fn credentials(&self) -> Credentials {
        match &self.security_token {
            Some(t) => Credentials::with_security_token(&self.id, &self.secret, t),
            None => Credentials::new(&self.id, &self.secret),
        }
    }
}

impl fmt::Debug for AccessKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessKey")
            .field("id", &self.id)
            .field("secret", &"** redacted **")
            .field(
                "security_token",
                &self.security_token.as_ref().map(|_| "** redacted **"),
            )
            .field("deny", &self.deny)
            .finish()
    }
}

/// One request the emulator received, and how it answered.
///
/// Never holds a secret, an STS token or a signature. Bounded whatever the client sent: the
/// method, action, AccessKey id, nonce and code are cut to 128 bytes; only a request that
/// passed authentication keeps its AccessKey id, nonce and parameters (at most 32, names cut to
/// 64 bytes, values to 256, 2 KiB in all); any other is kept as a summary (method, action,
/// signature scheme, how many parameters, status, code). A cut text ends in `…`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RequestRecord {
    /// The request id sent back (`RequestId` / `x-acs-request-id`).
    pub request_id: String,
    /// When the request (head and body) had been received.
    pub received_at: Instant,
    /// The HTTP method, e.g. `POST`.
    pub http_method: String,
    /// The action, when the request named one.
    pub action: Option<String>,
    /// The signature scheme, once the request was recognised as V1 or V3.
    pub signature_version: Option<SignatureVersion>,
    /// The AccessKey id, when the request named one and passed authentication.
    pub access_key_id: Option<String>,
    /// The signature nonce, when the request passed authentication.
    pub nonce: Option<String>,
    /// The API parameters (query and form), common and signature parameters removed, when the
    /// request passed authentication (at most 32 of them; see above).
    pub params: Vec<(String, String)>,
    /// How many parameters (query and form, common ones included) the request carried, kept
    /// or not.
    pub param_count: usize,
    /// Whether the request passed authentication (only then are [`access_key_id`],
    /// [`nonce`] and [`params`] kept).
    ///
    /// [`access_key_id`]: RequestRecord::access_key_id
    /// [`nonce`]: RequestRecord::nonce
    /// [`params`]: RequestRecord::params
    pub authenticated: bool,
    /// The HTTP status sent; `None` when the connection was dropped without an answer.
    pub http_status: Option<u16>,
    /// `Success` when the operation ran and succeeded (even if a fault then dropped or cut
    /// the answer), the error code when it failed or a [`Fault::ServiceError`] answered, and
    /// empty when no operation ran and no code was sent (HTML, empty, raw, dropped).
    pub code: String,
    /// The injected fault that shaped this answer, if any.
    pub fault: Option<Fault>,
}

impl RequestRecord {
    /// The value of API parameter `name`, if sent.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// One log line: method, action, signature version, key id, parameters (or, for a
    /// request that failed authentication, how many), status, code, request id, fault.
    ///
    /// Every text is passed through [`log_safe`]: control and other invisible characters are
    /// escaped (so the line is one line, without terminal escapes) and long texts are cut
    /// (names and values to 64 characters, the parameters to about 200), so a line stays
    /// under about 1 000 characters whatever the client sent.
    pub fn log_line(&self) -> String {
        let mut params = String::new();
        for (k, v) in &self.params {
            if params.chars().count() > 200 {
                params.push_str(" …");
                break;
            }
            params.push(' ');
            params.push_str(&log_safe(k, 64));
            params.push('=');
            params.push_str(&log_safe(v, 64));
        }
        if !self.authenticated && self.param_count > 0 {
            let plural = if self.param_count == 1 { "" } else { "s" };
            params = format!(" ({} parameter{plural})", self.param_count);
        }
        let opt = |s: &Option<String>| {
            s.as_deref()
                .map_or_else(|| "-".to_owned(), |s| log_safe(s, 64))
        };
        format!(
            "{} {} {} key={}{} -> {} {} request_id={}{}",
            log_safe(&self.http_method, 16),
            opt(&self.action),
            self.signature_version
                .map_or_else(|| "-".to_owned(), |v| v.to_string()),
            opt(&self.access_key_id),
            params,
            self.http_status
                .map_or_else(|| "(dropped)".to_owned(), |s| s.to_string()),
            if self.code.is_empty() {
                "-".to_owned()
            } else {
                log_safe(&self.code, 64)
            },
            log_safe(&self.request_id, 64),
            self.fault.as_ref().map_or_else(String::new, |f| format!(
                " fault={}",
                log_safe(&f.to_string(), 64)
            )),
        )
    }

    /// What this record counts for in the request log's byte budget: the record itself, each
    /// text's bytes plus 16 for its allocation, and the parameter list's slots.
    pub(crate) fn weight(&self) -> usize {
        const ALLOCATION: usize = 16;
        let text = |s: &str| s.len() + ALLOCATION;
        let opt = |s: &Option<String>| s.as_deref().map_or(0, text);
        let fault = match &self.fault {
            Some(Fault::ServiceError { code, message, .. }) => text(code) + text(message),
            Some(Fault::Raw {
                content_type, body, ..
            }) => text(content_type) + text(body),
            _ => 0,
        };
        std::mem::size_of::<Self>()
            + text(&self.request_id)
            + text(&self.http_method)
            + opt(&self.action)
            + opt(&self.access_key_id)
            + opt(&self.nonce)
            + text(&self.code)
            + self.params.capacity() * std::mem::size_of::<(String, String)>()
            + ALLOCATION
            + self
                .params
                .iter()
                .map(|(k, v)| text(k) + text(v))
                .sum::<usize>()
            + fault
    }
}

/// `text` made safe for one log line: backslashes, control characters and other invisible or
/// non-printable characters (line and paragraph separators, bidirectional overrides,
/// zero-width characters, combining marks…) are written as Rust escapes (`\n`, `\u{1b}`,
/// `\u{202e}`), and the result is cut after `max_chars` characters, with `…` appended.
///
/// The emulator passes everything it prints that a client or a command line chose through
/// this.
///
/// ```
/// use alibabacloud_ens::emulator::log_safe;
/// assert_eq!(log_safe("X\nFAKE LOG \u{1b}[31m", 100), "X\\nFAKE LOG \\u{1b}[31m");
/// assert_eq!(log_safe("高可用 vip", 100), "高可用 vip");
/// assert_eq!(log_safe(&"a".repeat(30_000), 5), "aaaaa…");
/// ```
pub fn log_safe(text: &str, max_chars: usize) -> String {
    let mut out = String::new();
    let mut chars = 0usize;
    for c in text.chars() {
        let start = out.len();
        match c {
            // Printable, and unambiguous without a backslash.
            '"' | '\'' => out.push(c),
            _ => out.extend(c.escape_debug()),
        }
        chars += out[start..].chars().count();
        if chars > max_chars {
            out.truncate(start);
            out.push('…');
            break;
        }
    }
    out
}

/// State shared by the server tasks and the [`Emulator`] handle.
pub(crate) struct Shared {
    pub(crate) state: Mutex<state::State>,
    pub(crate) keys: Mutex<HashMap<String, AccessKey>>,
    pub(crate) nonces: Mutex<auth::NonceCache>,
    pub(crate) faults: Mutex<faults::FaultQueue>,
    records: Mutex<RequestLog>,
    log_requests: AtomicBool,
    pub(crate) request_timeout: Duration,
    pub(crate) sts: sts::Sts,
}

/// The kept [`RequestRecord`]s, oldest first, and their total [`RequestRecord::weight`].
#[derive(Debug, Default)]
pub(crate) struct RequestLog {
    records: VecDeque<RequestRecord>,
    bytes: usize,
}

impl RequestLog {
    /// Appends, then forgets the oldest until at most [`MAX_RECORDS`] weighing at most
    /// [`LOG_BUDGET_BYTES`] remain.
    pub(crate) fn push(&mut self, record: RequestRecord) {
        self.bytes += record.weight();
        self.records.push_back(record);
        while self.records.len() > MAX_RECORDS || self.bytes > LOG_BUDGET_BYTES {
            match self.records.pop_front() {
                Some(old) => self.bytes -= old.weight(),
                None => break,
            }
        }
    }

    /// The kept records' total weight.
    #[cfg(test)]
    pub(crate) fn bytes(&self) -> usize {
        self.bytes
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.records.len()
    }
}

impl Shared {
    pub(crate) fn log_requests(&self) -> bool {
        self.log_requests.load(Ordering::Relaxed)
    }

    pub(crate) fn push_record(&self, record: RequestRecord) {
        lock(&self.records).push(record);
    }
}

/// Configures and starts an [`Emulator`]. Obtained from [`Emulator::builder`].
#[derive(Debug, Clone)]
pub struct EmulatorBuilder {
    listen: SocketAddr,
    default_key: AccessKey,
    extra_keys: Vec<AccessKey>,
    settings: state::Settings,
    demo: bool,
    log_requests: bool,
    request_timeout: Duration,
    sts: sts::StsSettings,
}

impl Default for EmulatorBuilder {
    fn default() -> Self {
        EmulatorBuilder {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            default_key: AccessKey::new(DEFAULT_ACCESS_KEY_ID, DEFAULT_ACCESS_KEY_SECRET),
            extra_keys: Vec::new(),
            settings: state::Settings {
                associate_delay: Duration::from_secs(2),
                unassociate_delay: Duration::from_secs(1),
                create_delay: Duration::from_secs(1),
                delete_delay: Duration::from_secs(1),
                eip_associate_delay: Duration::from_secs(2),
                eip_unassociate_delay: Duration::from_secs(1),
                max_instances_per_ha_vip: 10,
                max_ha_vips_per_instance: 5,
            },
            demo: false,
            log_requests: false,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            sts: sts::StsSettings::default(),
        }
    }
}

impl EmulatorBuilder {
    /// The address to listen on (default `127.0.0.1:0`: a free port on loopback).
    pub fn listen(mut self, addr: SocketAddr) -> Self {
        self.listen = addr;
        self
    }

    /// The default AccessKey's id and secret (default [`DEFAULT_ACCESS_KEY_ID`] /
    /// [`DEFAULT_ACCESS_KEY_SECRET`]); [`Emulator::credentials`] returns it.
    pub fn credentials(mut self, id: impl Into<String>, secret: impl Into<String>) -> Self {
        self.default_key.id = id.into();
        self.default_key.secret = secret.into();
        self
    }

    /// Makes the default AccessKey an STS key that requires this security token.
    pub fn security_token(mut self, token: impl Into<String>) -> Self {
        self.default_key.security_token = Some(token.into());
        self
    }

    /// Accepts one more AccessKey (e.g. an STS key, or a [denied](AccessKey::deny) one).
    pub fn add_key(mut self, key: AccessKey) -> Self {
        self.extra_keys.push(key);
        self
    }

    /// How long an association stays `Associating` before it is `InUse` (default 2 s).
    pub fn associate_delay(mut self, delay: Duration) -> Self {
        self.settings.associate_delay = delay;
        self
    }

    /// How long an association stays `Unassociating` before it disappears (default 1 s).
    pub fn unassociate_delay(mut self, delay: Duration) -> Self {
        self.settings.unassociate_delay = delay;
        self
    }

    /// How long an HAVIP made by CreateHaVip stays `Creating` before it is `Available`
    /// (default 1 s).
    pub fn create_delay(mut self, delay: Duration) -> Self {
        self.settings.create_delay = delay;
        self
    }

    /// How long an HAVIP stays `Deleting` after DeleteHaVips before it is gone (default 1 s).
    pub fn delete_delay(mut self, delay: Duration) -> Self {
        self.settings.delete_delay = delay;
        self
    }

    /// How long an EIP stays `Associating` after AssociateEnsEipAddress before it is `InUse`
    /// (default 2 s, like [`associate_delay`](EmulatorBuilder::associate_delay)).
    pub fn eip_associate_delay(mut self, delay: Duration) -> Self {
        self.settings.eip_associate_delay = delay;
        self
    }

    /// How long an EIP stays `Unassociating` after UnAssociateEnsEipAddress before it is
    /// `Available` (default 1 s, like [`unassociate_delay`](EmulatorBuilder::unassociate_delay)).
    pub fn eip_unassociate_delay(mut self, delay: Duration) -> Self {
        self.settings.eip_unassociate_delay = delay;
        self
    }

    /// How many instances/ENIs one HAVIP may be associated with (default 10; ENS does not
    /// publish its limit, this is the emulator's assumption). Beyond it AssociateHaVip answers
    /// `CountLimitExceed.InstanceOnHaVip`.
    pub fn max_instances_per_ha_vip(mut self, max: usize) -> Self {
        self.settings.max_instances_per_ha_vip = max;
        self
    }

    /// How many HAVIPs one instance/ENI may be associated with (default 5; ENS does not
    /// publish its limit, this is the emulator's assumption). Beyond it AssociateHaVip answers
    /// `CountLimitExceed.HaVipOnInstance`.
    pub fn max_ha_vips_per_instance(mut self, max: usize) -> Self {
        self.settings.max_ha_vips_per_instance = max;
        self
    }

    /// Seeds the demo topology (see the [module documentation](self)).
    pub fn demo(mut self) -> Self {
        self.demo = true;
        self
    }

    /// Prints one line per request to stderr (method, action, key id, parameters, status,
    /// code, request id, fault; never a secret or a signature). Off by default.
    pub fn log_requests(mut self, on: bool) -> Self {
        self.log_requests = on;
        self
    }

    /// How long a client may take to send one request, head and body, from its first byte
    /// (default 30 s; at least 1 ms). The same limit applies to writing each answer, and to an
    /// idle keep-alive connection waiting for its next request (hyper's header read timeout).
    /// Past it the emulator closes the connection without answering (no 408).
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout.max(Duration::from_millis(1));
        self
    }

    /// How long the credentials the emulator's STS and metadata service issue live (default:
    /// the `DurationSeconds` asked of STS, 6 hours for the metadata service). Short lifetimes
    /// exercise a client's refresh; past it ENS answers `InvalidSecurityToken.Expired`.
    /// `Expiration` is in whole seconds, so a lifetime under a second may issue credentials
    /// that are expired at once (see [`Emulator::expire_issued_credentials`] instead).
    pub fn sts_credential_lifetime(mut self, lifetime: Duration) -> Self {
        self.sts.lifetime = Some(lifetime);
        self
    }

    /// A role the STS lets `AssumeRole` assume (`acs:ram::<account>:role/<name>`); call it
    /// once per role. With none, any well-formed role ARN is assumed; with some, any other
    /// answers `EntityNotExist.Role`.
    pub fn ram_role(mut self, role_arn: impl Into<String>) -> Self {
        self.sts.roles.push(role_arn.into());
        self
    }

    /// Lets `AssumeRoleWithOIDC` assume `role_arn` with OIDC provider `provider_arn` and this
    /// `token` (what a pod's token file would hold); call it once per trust.
    pub fn oidc(
        mut self,
        role_arn: impl Into<String>,
        provider_arn: impl Into<String>,
        token: impl Into<String>,
    ) -> Self {
        self.sts.oidc.push(sts::OidcTrust {
            role_arn: role_arn.into(),
            provider_arn: provider_arn.into(),
            token: token.into(),
        });
        self
    }

    /// Attaches the RAM role `name` to the emulated instance: the metadata service serves its
    /// (rotating) credentials. Without it, the role paths answer 404.
    pub fn instance_ram_role(mut self, name: impl Into<String>) -> Self {
        self.sts.instance_role = Some(name.into());
        self
    }

    /// Makes the metadata service refuse requests without a session token (IMDSv2 enforced;
    /// default: both are answered).
    pub fn metadata_token_required(mut self, required: bool) -> Self {
        self.sts.metadata_token_required = required;
        self
    }

    /// The emulator's wall clock (default: the system clock): request timestamps (`Timestamp`,
    /// `x-acs-date`) are checked against it, and the credentials the STS and the metadata
    /// service issue (and the metadata session tokens) expire by it. A test that ages
    /// credentials on a [`ManualClock`](crate::clock::ManualClock) gives the same clock to the
    /// emulator, the client and the provider. (Nonces and the HAVIP transitions keep real
    /// time.)
    pub fn clock(mut self, clock: impl crate::clock::Clock) -> Self {
        self.sts.clock = Some(Arc::new(clock));
        self
    }

    /// Binds the listener and starts serving on the current Tokio runtime.
    ///
    /// # Errors
    /// When the address cannot be bound.
    pub async fn start(self) -> io::Result<Emulator> {
        let listener = TcpListener::bind(self.listen).await?;
        let local_addr = listener.local_addr()?;
        let mut keys = HashMap::new();
        for key in self
            .extra_keys
            .iter()
            .chain(std::iter::once(&self.default_key))
        {
            keys.insert(key.id.clone(), key.clone());
        }
        let mut state = state::State::new(self.settings);
        if self.demo {
            demo::seed_state(&mut state);
        }
        let shared = Arc::new(Shared {
            state: Mutex::new(state),
            keys: Mutex::new(keys),
            nonces: Mutex::new(auth::NonceCache::default()),
            faults: Mutex::new(faults::FaultQueue::default()),
            records: Mutex::new(RequestLog::default()),
            log_requests: AtomicBool::new(self.log_requests),
            request_timeout: self.request_timeout,
            sts: sts::Sts::new(self.sts),
        });
        let task = tokio::spawn(server::accept_loop(listener, Arc::clone(&shared)));
        Ok(Emulator {
            shared,
            local_addr,
            default_key: self.default_key,
            task: Some(task),
        })
    }
}

/// A running emulator. Dropping it stops the server.
///
/// All methods except [`start`](Emulator::start)/[`shutdown`](Emulator::shutdown) are
/// synchronous and may be called at any time, from any thread; they take effect for the next
/// request.
pub struct Emulator {
    shared: Arc<Shared>,
    local_addr: SocketAddr,
    default_key: AccessKey,
    task: Option<JoinHandle<()>>,
}

impl fmt::Debug for Emulator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Emulator")
            .field("local_addr", &self.local_addr)
            .field("access_key_id", &self.default_key.id)
            .finish_non_exhaustive()
    }
}

impl Emulator {
    /// A builder with the defaults (see the [module documentation](self)).
    pub fn builder() -> EmulatorBuilder {
        EmulatorBuilder::default()
    }

    /// Starts with the defaults and an empty state.
    ///
    /// # Errors
    /// When no loopback port can be bound.
    pub async fn start() -> io::Result<Emulator> {
        Emulator::builder().start().await
    }

    /// Starts with the defaults and the demo topology.
    ///
    /// # Errors
    /// When no loopback port can be bound.
    pub async fn start_demo() -> io::Result<Emulator> {
        Emulator::builder().demo().start().await
    }

    /// The base URL to send requests to: `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.local_addr)
    }

    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The default AccessKey as client credentials (with its STS token, if configured).
    pub fn credentials(&self) -> Credentials {
        self.default_key.credentials()
    }

    /// A ready client: this emulator's endpoint and default credentials, the client's other
    /// defaults.
    ///
    /// # Errors
    /// Only if the HTTP client cannot be created.
    pub fn client(&self) -> Result<crate::Client, crate::Error> {
        self.client_builder().build()
    }

    /// A client builder already pointed at this emulator with its default credentials, to
    /// change other settings (signature version, clock, retries…) before `build()`.
    pub fn client_builder(&self) -> crate::ClientBuilder {
        crate::Client::builder()
            .endpoint(self.endpoint())
            .credentials(self.credentials())
    }

    /// The default AccessKey id.
    pub fn access_key_id(&self) -> &str {
        &self.default_key.id
    }

    /// Accepts one more AccessKey from now on (replacing a key with the same id).
    pub fn add_key(&self, key: AccessKey) {
        lock(&self.shared.keys).insert(key.id.clone(), key);
    }

    /// Turns the per-request log line on or off.
    pub fn set_log_requests(&self, on: bool) {
        self.shared.log_requests.store(on, Ordering::Relaxed);
    }

    fn state(&self) -> MutexGuard<'_, state::State> {
        lock(&self.shared.state)
    }

    // ----- seeding -----

    /// Adds a vSwitch in [`DEFAULT_ENS_REGION_ID`] and [`DEFAULT_NETWORK_ID`].
    pub fn add_vswitch(&self, id: &str) {
        self.state()
            .add_vswitch(id, DEFAULT_ENS_REGION_ID, DEFAULT_NETWORK_ID, None);
    }

    /// Adds a vSwitch in the given ENS region and network. HAVIPs added to it later take these.
    pub fn add_vswitch_in(&self, id: &str, ens_region_id: &str, network_id: &str) {
        self.state()
            .add_vswitch(id, ens_region_id, network_id, None);
    }

    /// Adds a vSwitch with this CIDR (`10.8.0.0/24`; prefix 16 to 29), in
    /// [`DEFAULT_ENS_REGION_ID`] and [`DEFAULT_NETWORK_ID`]. Without it a vSwitch gets
    /// `10.0.k.0/24`, k counting vSwitches from 0. Addresses of the resources added to it, and
    /// of HAVIPs CreateHaVip makes in it, come from its CIDR.
    ///
    /// # Errors
    /// When `cidr` is not `a.b.c.d/n` with n from 16 to 29 (the message names it).
    pub fn add_vswitch_with_cidr(&self, id: &str, cidr: &str) -> Result<(), String> {
        let parsed =
            Cidr::parse(cidr).ok_or_else(|| format!("`{cidr}` is not a CIDR like 10.8.0.0/24"))?;
        self.state()
            .add_vswitch(id, DEFAULT_ENS_REGION_ID, DEFAULT_NETWORK_ID, Some(parsed));
        Ok(())
    }

    /// Adds (or replaces) an ENS instance in `vswitch` (created if unknown), with an IP address
    /// from the vSwitch's CIDR, its id as `InstanceName`, and a primary ENI
    /// ([`default_primary_network_interface_id`]: `i-1` → `eni-i-1`) with the same address. See
    /// [`add_instance_with`](Emulator::add_instance_with) to choose these.
    pub fn add_instance(&self, id: &str, vswitch: &str, status: InstanceStatus) {
        self.state().add_instance(id, vswitch, status);
    }

    /// Adds (or replaces) an ENS instance as `seed` describes it (name, address, primary ENI;
    /// see [`InstanceSeed`]).
    ///
    /// # Errors
    /// When the address is outside the vSwitch's CIDR or used by another resource of it (the
    /// message names them); nothing is added then.
    pub fn add_instance_with(&self, seed: InstanceSeed) -> Result<(), String> {
        self.state().add_instance_with(&seed)
    }

    /// Attaches the ENI `network_interface_id` to the instance `instance_id` (its status becomes
    /// `InUse`; its type is kept): DescribeNetworkInterfaces and DescribeInstances list it with
    /// the instance. `false` when either is unknown.
    pub fn attach_network_interface(&self, network_interface_id: &str, instance_id: &str) -> bool {
        self.state()
            .attach_network_interface(network_interface_id, instance_id)
    }

    /// Adds (or replaces, unbound) an `Available` EIP with this `AllocationId`, public address
    /// and ENS region; its `Name` is its id. Bind it with AssociateEnsEipAddress.
    ///
    /// # Errors
    /// When `address` is not an IPv4 address (the message names it).
    pub fn add_eip(&self, id: &str, address: &str, ens_region_id: &str) -> Result<(), String> {
        let ip: std::net::Ipv4Addr = address
            .trim()
            .parse()
            .map_err(|_| format!("`{address}` is not an IPv4 address"))?;
        self.state().add_eip(id, ip, ens_region_id);
        Ok(())
    }

    /// Seeds a binding of EIP `eip_id` to `instance_id` (an instance, ENI or HAVIP, as
    /// `instance_type` says) in any status: `Associating` and `Unassociating` finish after the
    /// configured delays, as if the call had just been made; [`EipStatus::Available`] unbinds
    /// it. Replaces the EIP's binding; `false` when the EIP is unknown. No rule is checked (the
    /// resource need not exist): a test can build states no API call leads to.
    pub fn add_eip_association(
        &self,
        eip_id: &str,
        instance_id: &str,
        instance_type: EipInstanceType,
        status: EipStatus,
    ) -> bool {
        self.state()
            .add_eip_association(eip_id, instance_id, instance_type, status)
    }

    /// Sets an EIP's status; `false` if it is unknown. The status sticks until changed (a
    /// pending `Associating`/`Unassociating` no longer finishes), so a test can build states no
    /// call leads to; [`EipStatus::Available`] also unbinds it.
    pub fn set_eip_status(&self, id: &str, status: EipStatus) -> bool {
        self.state().set_eip_status(id, status)
    }

    /// Adds (or replaces) an ENI in `vswitch` (created if unknown), with an IP address from
    /// 10.0.0.0/16. Associate it with `InstanceType=NetworkInterface`.
    pub fn add_network_interface(
        &self,
        id: &str,
        vswitch: &str,
        kind: NetworkInterfaceType,
        status: NetworkInterfaceStatus,
    ) {
        self.state()
            .add_network_interface(id, vswitch, kind, status);
    }

    /// Adds (or replaces, dropping its associations) an HAVIP in `vswitch` (created if
    /// unknown). It takes the vSwitch's region and network, an IP address from 10.0.0.0/16,
    /// its id as `Name`, an empty `Description` and now as `CreationTime`. `Available`,
    /// `Associating`, `InUse` and `Unassociating` are derived from the associations (so an
    /// HAVIP added as `InUse` reads `Available`); other statuses stick.
    pub fn add_ha_vip(&self, id: &str, vswitch: &str, status: HaVipStatus) {
        self.state().add_ha_vip(id, vswitch, status);
    }

    /// Seeds an association of `instance_id` (an ENS instance, or an ENI with
    /// [`InstanceType::NetworkInterface`](crate::InstanceType::NetworkInterface)) with
    /// `ha_vip_id`, in any status: `Associating` and `Unassociating` finish after the
    /// configured delays, as if the call had just been made. Replaces an association of the
    /// same instance; `false` when the HAVIP is unknown. No rule is checked: a test can build
    /// states no API call leads to.
    pub fn add_association(
        &self,
        ha_vip_id: &str,
        instance_id: &str,
        instance_type: crate::InstanceType,
        status: crate::AssociationStatus,
    ) -> bool {
        self.state()
            .add_association(ha_vip_id, instance_id, instance_type, status)
    }

    /// Sets an instance's status; `false` if it is unknown.
    pub fn set_instance_status(&self, id: &str, status: InstanceStatus) -> bool {
        self.state().set_instance_status(id, status)
    }

    /// Sets an ENI's status; `false` if it is unknown.
    pub fn set_network_interface_status(&self, id: &str, status: NetworkInterfaceStatus) -> bool {
        self.state().set_network_interface_status(id, status)
    }

    /// Sets an HAVIP's status; `false` if it is unknown. Setting `Creating`, `Deleting` (or any
    /// status outside `Available`/`Associating`/`InUse`/`Unassociating`) pins it; setting one
    /// of those four returns the HAVIP to the status its associations give.
    pub fn set_ha_vip_status(&self, id: &str, status: HaVipStatus) -> bool {
        self.state().set_ha_vip_status(id, status)
    }

    /// Sets an HAVIP's `Name` and `Description`; `false` if it is unknown.
    pub fn set_ha_vip_name(&self, id: &str, name: &str, description: &str) -> bool {
        self.state().set_ha_vip_name(id, name, description)
    }

    /// Seeds the demo topology (see the [module documentation](self)) into the current state,
    /// replacing resources with the same ids.
    pub fn seed_demo(&self) {
        demo::seed_state(&mut self.state());
    }

    // ----- inspection -----

    /// A snapshot of one HAVIP, as DescribeHaVips would return it now.
    pub fn ha_vip(&self, id: &str) -> Option<HaVip> {
        self.state().ha_vip(id)
    }

    /// Snapshots of every HAVIP, ordered by id.
    pub fn ha_vips(&self) -> Vec<HaVip> {
        self.state().ha_vips()
    }

    /// A snapshot of one EIP, as DescribeEnsEipAddresses would return it now.
    pub fn eip(&self, id: &str) -> Option<Eip> {
        self.state().eip(id)
    }

    /// Snapshots of every EIP, ordered by id.
    pub fn eips(&self) -> Vec<Eip> {
        self.state().eips()
    }

    // ----- time -----

    /// Changes how long future associations take (pending ones keep their deadline).
    pub fn set_associate_delay(&self, delay: Duration) {
        self.state().settings.associate_delay = delay;
    }

    /// Changes how long future unassociations take (pending ones keep their deadline).
    pub fn set_unassociate_delay(&self, delay: Duration) {
        self.state().settings.unassociate_delay = delay;
    }

    /// Changes how long future creations stay `Creating`.
    pub fn set_create_delay(&self, delay: Duration) {
        self.state().settings.create_delay = delay;
    }

    /// Changes how long future deletions stay `Deleting`.
    pub fn set_delete_delay(&self, delay: Duration) {
        self.state().settings.delete_delay = delay;
    }

    /// Changes how long future EIP associations take (pending ones keep their deadline).
    pub fn set_eip_associate_delay(&self, delay: Duration) {
        self.state().settings.eip_associate_delay = delay;
    }

    /// Changes how long future EIP unassociations take (pending ones keep their deadline).
    pub fn set_eip_unassociate_delay(&self, delay: Duration) {
        self.state().settings.eip_unassociate_delay = delay;
    }

    /// Finishes every pending transition now: HAVIP associations (`Associating`,
    /// `Unassociating`), `Creating` and `Deleting` HAVIPs, and EIPs `Associating` or
    /// `Unassociating`.
    pub fn complete_transitions(&self) {
        self.state().complete_transitions();
    }

    // ----- request log -----

    /// The requests answered so far (at most the last 10 000, and fewer when they weigh more
    /// than 16 MiB in all; see [`RequestRecord`] for what each keeps), in the order they were
    /// answered (a request delayed by [`Fault::Slow`] is recorded when it is answered; see
    /// [`RequestRecord::received_at`]).
    pub fn requests(&self) -> Vec<RequestRecord> {
        lock(&self.shared.records).records.iter().cloned().collect()
    }

    /// Forgets the recorded requests.
    pub fn clear_requests(&self) {
        *lock(&self.shared.records) = RequestLog::default();
    }

    // ----- faults -----

    /// Queues `fault` for the next `times` authenticated requests matching `target` (an action
    /// name such as `"AssociateHaVip"`, or [`FaultTarget::Any`]). Faults are consumed in the
    /// order they were queued.
    pub fn inject(&self, target: impl Into<FaultTarget>, fault: Fault, times: usize) {
        lock(&self.shared.faults).push(target.into(), fault, times);
    }

    /// How many fault uses are still queued.
    pub fn faults_pending(&self) -> usize {
        lock(&self.shared.faults).pending()
    }

    /// Removes every queued fault.
    pub fn clear_faults(&self) {
        lock(&self.shared.faults).clear();
    }

    // ----- STS and metadata -----

    /// Expires every credential the STS and the metadata service have issued, now: ENS then
    /// answers `InvalidSecurityToken.Expired` to them (no test needs to wait for a lifetime to
    /// pass). The metadata service issues new ones on its next request.
    pub fn expire_issued_credentials(&self) {
        self.shared.sts.expire_all(&self.shared);
    }

    // ----- lifecycle -----

    /// Stops the server and waits until its listener is closed.
    pub async fn shutdown(mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
            let _ = task.await;
        }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}
