#[path = "../../build/commit.rs"]
mod commit;

fn main() {
    commit::emit(std::path::Path::new(env!("CARGO_MANIFEST_DIR")));
}
