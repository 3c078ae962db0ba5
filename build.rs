//! Rebuilds when a migration or a dashboard file is added or changed: both are embedded in
//! the binary.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
    println!("cargo:rerun-if-changed=dashboard");
}
