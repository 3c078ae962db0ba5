//! Rebuilds when a migration or a file of a web app (`dashboard/`, `shop/`) is added or
//! changed: all are embedded in the binary.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
    println!("cargo:rerun-if-changed=dashboard");
    println!("cargo:rerun-if-changed=shop");
}
