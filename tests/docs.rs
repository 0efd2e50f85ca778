//! The guided tour in docs/ shows real wsscope output. Every fenced block that starts
//! with `$ wsscope …` is run again here and must print exactly what the docs show, so
//! the docs never drift from the program. `WSSCOPE_BLESS_DOCS=1 cargo test --test docs`
//! rewrites the blocks with the current output (review the diff before committing).
//!
//! A command may end with `| head -n N` to show only its first N lines.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Splits a command line on spaces, keeping 'single-quoted' words whole.
fn words(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    for ch in line.chars() {
        match ch {
            '\'' => quoted = !quoted,
            ' ' if !quoted => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
            c => cur.push(c),
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Runs one `$ wsscope …` line and returns what the docs should show.
fn run(command: &str) -> String {
    let (cmd, head) = match command.split_once(" | head -n ") {
        Some((c, n)) => (c, n.trim().parse::<usize>().ok()),
        None => (command, None),
    };
    let args = words(cmd.trim_start_matches("$ wsscope"));
    let output = Command::new(env!("CARGO_BIN_EXE_wsscope"))
        .args(&args)
        .current_dir(root())
        .env("NO_COLOR", "1")
        .output()
        .expect("runs");
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    let lines: Vec<&str> = text.lines().collect();
    let shown = match head {
        Some(n) => &lines[..n.min(lines.len())],
        None => &lines[..],
    };
    shown.iter().map(|l| format!("{l}\n")).collect()
}

/// Checks (or, blessing, rewrites) every command block of one Markdown file.
fn check_file(path: &Path, bless: bool) -> Vec<String> {
    let text = std::fs::read_to_string(path).expect("read doc");
    let mut out = String::new();
    let mut problems = Vec::new();
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        out.push_str(line);
        out.push('\n');
        // A command block: a fence whose first line is `$ wsscope …`.
        let is_command_block =
            line.starts_with("```") && lines.peek().is_some_and(|l| l.starts_with("$ wsscope"));
        if !is_command_block {
            continue;
        }
        let Some(command) = lines.next() else { break };
        out.push_str(command);
        out.push('\n');
        let mut shown = String::new();
        for l in lines.by_ref() {
            if l.starts_with("```") {
                let actual = run(command);
                if actual != shown {
                    problems.push(format!(
                        "{}: `{command}` prints something else now:\n--- docs\n{shown}--- program\n{actual}",
                        path.display()
                    ));
                }
                out.push_str(if bless { &actual } else { &shown });
                out.push_str(l);
                out.push('\n');
                break;
            }
            shown.push_str(l);
            shown.push('\n');
        }
    }
    if bless && out != text {
        std::fs::write(path, out).expect("write doc");
    }
    problems
}

#[test]
fn docs_show_what_the_program_prints() {
    let bless = std::env::var_os("WSSCOPE_BLESS_DOCS").is_some();
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join("docs"))
        .expect("docs/")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no docs");
    let mut commands = 0;
    let mut problems = Vec::new();
    for f in &files {
        commands += std::fs::read_to_string(f)
            .expect("read")
            .lines()
            .filter(|l| l.starts_with("$ wsscope"))
            .count();
        problems.extend(check_file(f, bless));
    }
    assert!(
        commands >= 10,
        "the tour runs at least ten commands ({commands})"
    );
    if !bless {
        assert!(problems.is_empty(), "{}", problems.join("\n\n"));
    }
}
