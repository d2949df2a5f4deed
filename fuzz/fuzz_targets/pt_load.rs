//! Any bytes given to `torch.load`'s reader (zip or legacy pickle): an error
//! or a value, never a panic, a hang or an allocation beyond the input.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = frankentorch::serialize::pt::load_from_bytes(data);
});
