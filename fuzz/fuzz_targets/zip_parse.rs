//! Any bytes given to the zip reader, then every entry it lists read back:
//! an error or the entries, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(archive) = frankentorch::serialize::zip::ZipArchive::parse(data) {
        let names: Vec<String> = archive.entries().iter().map(|e| e.name.clone()).collect();
        for name in names {
            let _ = archive.read(&name);
        }
    }
});
