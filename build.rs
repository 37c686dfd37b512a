//! Compiles the shipped configuration (lexicons, rubrics, calendars, scorecards) into the
//! binary, so an installed `callqa` works from any folder with no clone beside it.
//! `settings::embedded` turns the generated table back into files.

use std::fmt::Write as _;
use std::path::Path;

const FOLDERS: [(&str, &str); 4] = [
    ("lexicons", "txt"),
    ("rubrics", "toml"),
    ("calendars", "toml"),
    ("scorecards", "toml"),
];

fn main() {
    let root = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let mut table = String::from("&[\n");
    for (folder, ext) in FOLDERS {
        let dir = Path::new(&root).join(folder);
        println!("cargo:rerun-if-changed={}", dir.display());
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut files: Vec<_> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == ext || x == "md"))
            .collect();
        files.sort();
        for path in files {
            println!("cargo:rerun-if-changed={}", path.display());
            let name = path
                .file_name()
                .expect("listed files have names")
                .to_string_lossy();
            writeln!(
                table,
                "    ({:?}, include_str!({:?})),",
                format!("{folder}/{name}"),
                path.display().to_string()
            )
            .expect("writing to a String");
        }
    }
    table.push(']');
    let out = Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("embedded.rs");
    std::fs::write(out, table).expect("writing the embedded configuration table");
}
