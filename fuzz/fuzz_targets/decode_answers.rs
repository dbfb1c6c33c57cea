//! Every answer decoder (error bodies with any status, DescribeHaVips and the write operations'
//! bodies) on arbitrary bytes: no panic, no unbounded allocation.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    alibabacloud_ens::fuzzing::decode_answers(data);
});
