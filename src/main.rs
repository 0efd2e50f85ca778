//! wsscope command line: argument parsing and error reporting only; the work is in the library.

use std::fs::File;
use std::io::{self, IsTerminal, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand, ValueEnum};

use wsscope::model::Capture;
use wsscope::pipeline::session::SessionConfig;
use wsscope::source::SourceError;
use wsscope::ws::limits::Limits;

/// mimalloc instead of the system allocator: a decode makes millions of small, short-lived
/// allocations (frame and message records), and glibc's malloc and free were a third of
/// the time of `wsscope summary` on a 1 GB capture.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The demo capture, embedded so an installed binary has it too.
const DEMO: &[u8] = include_bytes!("../captures/demo.pcapng");
const DEMO_NAME: &str = "demo.pcapng (embedded)";

#[derive(Parser)]
#[command(
    name = "wsscope",
    version,
    about = "See the WebSocket protocol: decode, check and explain RFC 6455 traffic in pcap/pcapng captures",
    after_help = "With no command, opens FILE (or the embedded demo capture) in the terminal UI; \
                  when standard output is not a terminal, prints the summary instead.\n\
                  Exit status: 0 ok, 1 the capture could not be read to its end (what was decoded is printed), \
                  2 bad usage or unreadable input, 3 protocol violations found (with --strict)."
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// Capture file (pcap or pcapng), or - for standard input.
    file: Option<PathBuf>,
    #[command(flatten)]
    common: Common,
}

#[derive(Args, Clone, Debug)]
struct Common {
    /// Treat this TCP port's traffic as WebSocket even without a captured handshake (repeatable).
    #[arg(long = "port", value_name = "N", global = true)]
    ports: Vec<u16>,
    /// Never take a connection seen from its middle (no handshake captured) for WebSocket on the evidence of its frames; only --port does
    #[arg(long, global = true)]
    no_guess: bool,
    /// A TLS key log (NSS format, as SSLKEYLOGFILE writes it) whose secrets decrypt
    /// wss:// connections (repeatable; SSLKEYLOGFILE is read too when it is set).
    #[arg(long = "keylog", value_name = "FILE", global = true)]
    keylogs: Vec<PathBuf>,
    /// Do not use colour (also honoured: the NO_COLOR environment variable).
    #[arg(long, global = true)]
    no_color: bool,
    /// After the output, print to standard error what was read, how fast, and the peak memory.
    #[arg(long, global = true)]
    stats: bool,
    /// Exit with status 3 when any protocol violation is found (for CI).
    #[arg(long, global = true)]
    strict: bool,
    /// Largest message payload kept in memory, in bytes (hash and length still cover it all).
    #[arg(long, value_name = "BYTES", global = true, default_value_t = Limits::default().max_message_kept)]
    max_message: u64,
    /// Largest inflated size of one compressed message, in bytes (deflate bombs stop here).
    #[arg(long, value_name = "BYTES", global = true, default_value_t = Limits::default().max_decompressed)]
    max_decompressed: u64,
    /// Most fragments assembled into one message.
    #[arg(long, value_name = "N", global = true, default_value_t = Limits::default().max_fragments)]
    max_fragments: u32,
    /// Most TCP flows tracked at once (the oldest is retired past it).
    #[arg(long, value_name = "N", global = true, default_value_t = Limits::default().max_flows)]
    max_flows: usize,
    /// Most bytes buffered out of order per TCP direction before a hole is declared lost.
    #[arg(long, value_name = "BYTES", global = true, default_value_t = Limits::default().max_out_of_order)]
    max_out_of_order: usize,
    /// Most bytes buffered across all flows (out-of-order data, partial heads, early data).
    #[arg(long, value_name = "BYTES", global = true, default_value_t = Limits::default().max_buffered_total)]
    max_buffered: usize,
    /// Warn about silences between frames longer than this many seconds.
    #[arg(long, value_name = "SECS", global = true, default_value_t = wsscope::analysis::heartbeat::DEFAULT_IDLE_THRESHOLD_SECS)]
    idle_threshold: f64,
    /// Largest HTTP head waited for, in bytes.
    #[arg(long, value_name = "BYTES", global = true, default_value_t = Limits::default().max_http_head)]
    max_http_head: usize,
    /// Decode threads for `summary`, `frames` and `export` on a capture (default: one per
    /// core, at most 4, one fewer for `summary`). Each holds its share of --max-flows and
    /// --max-buffered; the output is the same for any number unless a limit is reached.
    #[arg(long, value_name = "N", global = true, value_parser = clap::value_parser!(u16).range(1..=64))]
    threads: Option<u16>,
}

impl Common {
    /// The TLS secrets of `--keylog` files and `SSLKEYLOGFILE`: a file that cannot be
    /// read is an error; lines that cannot be used are said on standard error, by file
    /// and line, and the others used.
    fn keys(&self) -> Result<wsscope::tls::KeyLog> {
        let mut keys = wsscope::tls::KeyLog::default();
        let mut paths = self.keylogs.clone();
        if let Some(env) = std::env::var_os("SSLKEYLOGFILE").filter(|v| !v.is_empty()) {
            let env = PathBuf::from(env);
            if !paths.contains(&env) && env.exists() {
                paths.push(env);
            }
        }
        for path in &paths {
            keys.load(path)
                .with_context(|| format!("reading the key log {}", path.display()))?;
        }
        for problem in &keys.problems {
            eprintln!("wsscope: key log {problem} (line skipped)");
        }
        Ok(keys)
    }

    fn session_config(&self) -> Result<SessionConfig> {
        Ok(SessionConfig {
            limits: Limits {
                max_message_kept: self.max_message,
                max_decompressed: self.max_decompressed,
                max_fragments: self.max_fragments,
                max_flows: self.max_flows.max(1),
                max_out_of_order: self.max_out_of_order,
                max_http_head: self.max_http_head.max(64),
                max_buffered_total: self.max_buffered,
                ..Limits::default()
            },
            ws_ports: self.ports.clone(),
            idle_threshold: self.idle_threshold,
            guess: !self.no_guess,
            keys: std::sync::Arc::new(self.keys()?),
        })
    }
}

/// Where packets come from: a capture file, standard input, or (feature `live`) an interface.
#[derive(Args, Clone, Debug)]
struct InputArgs {
    /// Capture file (pcap or pcapng), or - for standard input.
    #[arg(required_unless_present = "interface", conflicts_with = "interface")]
    file: Option<PathBuf>,
    #[command(flatten)]
    live: LiveArgs,
}

/// Live capture options (feature `live`).
#[derive(Args, Clone, Debug, Default)]
struct LiveArgs {
    /// Capture live on this interface instead of reading a file (needs the `live` feature).
    #[arg(short = 'i', long = "interface", value_name = "IFACE")]
    interface: Option<String>,
    /// BPF capture filter (default: tcp).
    #[arg(short = 'f', long = "filter", value_name = "BPF")]
    filter: Option<String>,
    /// Bytes captured per packet (default: the whole packet).
    #[arg(
        short = 's',
        long = "snaplen",
        value_name = "BYTES",
        default_value_t = 0
    )]
    snaplen: u32,
    /// Also save what was captured to this pcapng file.
    #[arg(short = 'w', long = "write", value_name = "OUT.pcapng")]
    write: Option<PathBuf>,
    /// Stop after this many packets.
    #[arg(short = 'c', long = "count", value_name = "N")]
    count: Option<u64>,
    /// Stop after this many seconds.
    #[arg(long = "duration", value_name = "SECS")]
    duration: Option<f64>,
}

#[derive(Subcommand)]
enum Command {
    /// Connections, handshake verdicts, message counts, violations and warnings.
    Summary {
        #[command(flatten)]
        input: InputArgs,
    },
    /// One line per frame, like tshark's one-line view.
    Frames {
        #[command(flatten)]
        input: InputArgs,
        /// Only this connection (numbered as in the summary).
        #[arg(long = "conn", value_name = "N")]
        conn: Option<u32>,
    },
    /// Machine-readable export (one JSON object per line: connection, frame, message, violation, warning).
    Export {
        #[command(flatten)]
        input: InputArgs,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Jsonl)]
        format: Format,
        /// Only this connection.
        #[arg(long = "conn", value_name = "N")]
        conn: Option<u32>,
    },
    /// Explain, in plain words, one frame (every header field, the §5.2 diagram, unmasking,
    /// decompression, the payload) or a connection's handshake (each check, the Accept
    /// computation step by step): what the terminal UI's detail pane shows.
    Explain {
        /// Capture file, or - for standard input.
        file: PathBuf,
        /// The connection (numbered as in the summary).
        #[arg(long = "conn", value_name = "N", default_value_t = 1)]
        conn: u32,
        /// The frame (numbered as in `wsscope frames`).
        #[arg(long = "frame", value_name = "K", conflicts_with = "handshake")]
        frame: Option<u32>,
        /// The opening handshake (the default when no frame is named).
        #[arg(long = "handshake")]
        handshake: bool,
        /// Line width.
        #[arg(long = "width", value_name = "COLUMNS", default_value_t = 100)]
        width: u16,
    },
    /// Watch an interface live in the terminal UI (needs the `live` feature and capture permission).
    Live {
        #[command(flatten)]
        live: LiveArgs,
    },
    /// List capture interfaces, like tcpdump -D (needs the `live` feature).
    Interfaces,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Format {
    /// JSON lines.
    Jsonl,
}

/// The input named on the command line.
enum Input {
    Path(PathBuf),
    Stdin,
    Demo,
}

impl Input {
    fn from_arg(p: Option<PathBuf>) -> Input {
        match p {
            None => Input::Demo,
            Some(p) if p.as_os_str() == "-" => Input::Stdin,
            Some(p) => Input::Path(p),
        }
    }

    fn name(&self) -> String {
        match self {
            Input::Path(p) => p.display().to_string(),
            Input::Stdin => "(standard input)".into(),
            Input::Demo => DEMO_NAME.into(),
        }
    }
}

/// Opens the input as a byte stream.
fn open_input(input: &Input) -> Result<Box<dyn Read + Send>> {
    Ok(match input {
        // Unbuffered: the capture reader reads 1 MiB at a time into its own buffer.
        Input::Path(p) => {
            Box::new(File::open(p).with_context(|| format!("cannot open {}", p.display()))?)
        }
        Input::Stdin => Box::new(io::stdin()),
        Input::Demo => Box::new(DEMO),
    })
}

/// Says which input could not be read, and how.
fn source_error(input: &Input, e: SourceError) -> anyhow::Error {
    match e {
        e @ (SourceError::Empty | SourceError::NotACapture(_)) => anyhow::Error::new(e).context(
            format!("{} is not a capture wsscope can read", input.name()),
        ),
        e => anyhow::Error::new(e).context(format!("cannot read {}", input.name())),
    }
}

/// Decodes the input; a reader error that leaves nothing is an `Err`, one after some
/// packets is kept in the capture (`source_error`).
fn load(input: &Input, config: SessionConfig) -> Result<Capture> {
    wsscope::decode_reader(open_input(input)?, config).map_err(|e| source_error(input, e))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            if e.downcast_ref::<io::Error>()
                .is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe)
            {
                return ExitCode::SUCCESS;
            }
            eprintln!("wsscope: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// What a scripting command prints.
#[derive(Clone, Copy)]
enum Output {
    Summary,
    Frames(Option<u32>),
    Jsonl(Option<u32>),
}

impl Output {
    fn renderer(self) -> wsscope::export::Renderer {
        use wsscope::export::{Format, Renderer};
        let (format, only) = match self {
            Output::Summary => (Format::Summary, None),
            Output::Frames(only) => (Format::Frames, only),
            Output::Jsonl(only) => (Format::Jsonl, only),
        };
        Renderer { format, only }
    }
}

fn run(cli: Cli) -> Result<ExitCode> {
    let common = cli.common.clone();
    let (input, what) = match cli.command {
        None => {
            let input = Input::from_arg(cli.file);
            if io::stdout().is_terminal() {
                return open_ui(&input, &common);
            }
            return finish_file(&input, Output::Summary, &common);
        }
        Some(Command::Summary { input }) => (input, Output::Summary),
        Some(Command::Frames { input, conn }) => (input, Output::Frames(conn)),
        Some(Command::Export {
            input,
            format: Format::Jsonl,
            conn,
        }) => (input, Output::Jsonl(conn)),
        Some(Command::Live { live }) => return live_ui(&live, &common),
        Some(Command::Interfaces) => return list_interfaces(),
        Some(Command::Explain {
            file,
            conn,
            frame,
            handshake: _,
            width,
        }) => {
            let input = Input::from_arg(Some(file));
            let capture = load(&input, common.session_config()?)?;
            let subject = frame.map_or(
                wsscope::command::explain::Subject::Handshake,
                wsscope::command::explain::Subject::Frame,
            );
            let text = wsscope::command::explain::explain(
                &capture,
                &input.name(),
                conn,
                subject,
                width.clamp(40, 400),
            )?;
            let stdout = io::stdout();
            let mut out = stdout.lock();
            out.write_all(text.as_bytes())?;
            out.flush()?;
            return exit_status(&capture, capture.violation_count(), &input.name(), &common);
        }
    };
    if input.live.interface.is_some() {
        return live_script(&input.live, what, &common);
    }
    finish_file(&Input::from_arg(input.file), what, &common)
}

/// The temporary copy of the stream the UI shows, if any (deleted by [`end_on_signal`]).
static STREAM_COPY: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();

/// Notes the temporary copy of the stream shown, for [`end_on_signal`] to delete.
fn remember_copy(copy: Option<&tempfile::TempPath>) {
    if let Some(copy) = copy {
        let _ = STREAM_COPY.set(copy.to_path_buf());
    }
}

/// On SIGTERM or SIGHUP while the UI runs: asks it to end as q does; if it has not
/// within a second (its terminal gone, a read of it never returning), deletes the
/// stream's temporary copy and exits.
fn end_on_signal() {
    wsscope::tui::request_quit();
    std::thread::sleep(std::time::Duration::from_secs(1));
    if let Some(path) = STREAM_COPY.get() {
        let _ = std::fs::remove_file(path);
    }
    std::process::exit(1);
}

/// Opens the terminal UI on a file (or stdin, or the demo), decoding in the background.
fn open_ui(input: &Input, common: &Common) -> Result<ExitCode> {
    // The capture header is read before the UI starts, so "not a capture" is said plainly.
    // A file's finished connections are compacted and decoded again when shown.
    let config = common.session_config()?;
    // A pipe is copied to a temporary file as it is read, deleted when this returns.
    let spawned = match input {
        Input::Path(p) => {
            File::open(p).with_context(|| format!("cannot open {}", p.display()))?;
            wsscope::loader::spawn_file(p, config).map(|(l, d)| (l, d, None))
        }
        Input::Stdin => wsscope::loader::spawn_spooled(io::stdin(), config),
        Input::Demo => {
            wsscope::loader::spawn(DEMO, Some(DEMO.len() as u64), config).map(|(l, d)| (l, d, None))
        }
    };
    let (loading, _decoder, stream_copy) =
        spawned.with_context(|| format!("{} is not a capture wsscope can read", input.name()))?;
    // SIGTERM, or SIGHUP when the terminal goes away, ends the UI as q does, so the
    // terminal is restored and the stream's temporary copy deleted.
    remember_copy(stream_copy.as_ref());
    let _ = ctrlc::set_handler(end_on_signal);
    wsscope::tui::run(&loading, input.name(), common.no_color)?;
    // Not joining the decoder: quitting must not wait for a large file to finish.
    let capture = loading.capture();
    if let Some(err) = &capture.source_error {
        eprintln!("wsscope: {}: {err}", input.name());
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

/// Decodes a file (or stdin, or the demo) and prints `what`, in streaming mode: each
/// connection is written (or set aside, rendered) when its flow ends, so memory follows
/// the open flows rather than the size of the file.
fn finish_file(input: &Input, what: Output, common: &Common) -> Result<ExitCode> {
    let started = std::time::Instant::now();
    let stdout = io::stdout();
    let mut out = io::BufWriter::with_capacity(1 << 16, stdout.lock());
    let renderer = what.renderer();
    let decoded = wsscope::command::scripted::write_streaming(
        open_input(input)?,
        &common.session_config()?,
        renderer,
        &input.name(),
        &mut out,
        wsscope::pipeline::StreamSetup {
            shares: common.threads.map_or_else(
                || wsscope::default_shards(matches!(what, Output::Summary)),
                usize::from,
            ),
            ..Default::default()
        },
    );
    let (capture, totals) = match decoded {
        Ok(done) => done,
        Err(wsscope::StreamError::Source(e)) => return Err(source_error(input, e)),
        Err(wsscope::StreamError::Output(e)) => return Err(e.into()),
    };
    out.flush()?;
    if common.stats {
        print_stats(&capture, totals.frames, started.elapsed());
    }
    exit_status(&capture, totals.violations, &input.name(), common)
}

/// Peak resident memory of this process in bytes (Linux: VmHWM in /proc/self/status).
fn peak_memory() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// `--stats`: throughput and peak memory, on standard error.
fn print_stats(capture: &Capture, frames: usize, elapsed: std::time::Duration) {
    let secs = elapsed.as_secs_f64().max(1e-9);
    let s = &capture.stats;
    let frames = frames as f64;
    eprintln!(
        "wsscope: {:.1} MB, {} packets, {} frames in {:.3} s: {:.1} MB/s, {:.0} packets/s, {:.0} frames/s; peak memory {}",
        s.bytes as f64 / 1e6,
        s.packets,
        frames,
        secs,
        s.bytes as f64 / 1e6 / secs,
        s.packets as f64 / secs,
        frames / secs,
        peak_memory().map_or("unknown".to_string(), |b| format!(
            "{:.1} MB",
            b as f64 / 1e6
        ))
    );
}

fn exit_status(
    capture: &Capture,
    violations: usize,
    name: &str,
    common: &Common,
) -> Result<ExitCode> {
    if let Some(err) = &capture.source_error {
        eprintln!("wsscope: {name}: {err}; everything before it was decoded and is shown above");
        return Ok(ExitCode::from(1));
    }
    if common.strict && violations > 0 {
        return Ok(ExitCode::from(3));
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(not(feature = "live"))]
const NO_LIVE: &str = "this wsscope was built without live capture. Install libpcap (Debian/Ubuntu: \
                       apt-get install libpcap-dev) and rebuild with: cargo build --release --features live";

#[cfg(not(feature = "live"))]
fn live_script(_: &LiveArgs, _: Output, _: &Common) -> Result<ExitCode> {
    anyhow::bail!(NO_LIVE)
}

#[cfg(not(feature = "live"))]
fn live_ui(_: &LiveArgs, _: &Common) -> Result<ExitCode> {
    anyhow::bail!(NO_LIVE)
}

#[cfg(not(feature = "live"))]
fn list_interfaces() -> Result<ExitCode> {
    anyhow::bail!(NO_LIVE)
}

#[cfg(feature = "live")]
fn live_options(args: &LiveArgs) -> wsscope::source::live::LiveOptions {
    wsscope::source::live::LiveOptions {
        interface: args.interface.clone(),
        filter: args.filter.clone(),
        snaplen: args.snaplen,
        write: args.write.clone(),
        count: args.count,
        duration: args
            .duration
            .filter(|d| d.is_finite() && *d >= 0.0)
            .map(std::time::Duration::from_secs_f64),
    }
}

#[cfg(feature = "live")]
fn start_live(args: &LiveArgs, ui: bool) -> Result<wsscope::source::live::LiveCapture> {
    let capture = wsscope::source::live::start(live_options(args))?;
    let stop = capture.stop.clone();
    // Ctrl-C (SIGTERM, SIGHUP) stops the capture cleanly: the -w file is flushed and the
    // output completed; the UI, if any, ends as q ends it.
    let _ = ctrlc::set_handler(move || {
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        if ui {
            end_on_signal();
        }
    });
    eprintln!(
        "wsscope: capturing on {} (filter: {}){}; Ctrl-C to stop",
        capture.interface,
        args.filter.as_deref().unwrap_or("tcp"),
        args.write
            .as_ref()
            .map(|w| format!(", saving to {}", w.display()))
            .unwrap_or_default()
    );
    Ok(capture)
}

/// `summary|frames|export -i IFACE`: decode live; frames and JSON lines are streamed as
/// they are decoded, the summary is printed when the capture stops.
#[cfg(feature = "live")]
fn live_script(args: &LiveArgs, what: Output, common: &Common) -> Result<ExitCode> {
    use std::sync::atomic::Ordering;

    let live = start_live(args, false)?;
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    let name = format!("live on {}", live.interface);
    let written = wsscope::command::live::write_live(
        &live,
        &common.session_config()?,
        what.renderer(),
        &name,
        &mut out,
    )?;
    let result = live
        .thread
        .join()
        .map_err(|_| anyhow::anyhow!("the capture thread stopped unexpectedly"))?;
    let stats = &live.stats;
    eprintln!(
        "wsscope: {} packets captured, {} dropped by the kernel, {} dropped by wsscope (decoder behind)",
        stats.seen.load(Ordering::Relaxed),
        stats.kernel_dropped.load(Ordering::Relaxed),
        stats.queue_dropped.load(Ordering::Relaxed)
    );
    result?;
    let capture = &written.capture;
    exit_status(capture, capture.violation_count(), "live capture", common)
}

/// `wsscope live`: the terminal UI on a live capture; without a terminal, the frame list
/// is streamed instead.
#[cfg(feature = "live")]
fn live_ui(args: &LiveArgs, common: &Common) -> Result<ExitCode> {
    if !io::stdout().is_terminal() {
        return live_script(args, Output::Frames(None), common);
    }
    let live = start_live(args, true)?;
    let (stop, name) = (live.stop.clone(), format!("live on {}", live.interface));
    // The capture is copied to a temporary file as it is read, deleted when this returns.
    let (loading, decoder, capture_copy) =
        wsscope::loader::spawn_live(live, common.session_config()?)?;
    remember_copy(capture_copy.as_ref());
    let shown = wsscope::tui::run(&loading, name, common.no_color);
    // Quitting the UI stops the capture; the decoder then flushes -w and ends.
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let _ = decoder.join();
    shown?;
    if let Some(err) = &loading.capture().source_error {
        eprintln!("wsscope: live capture: {err}");
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

/// `wsscope interfaces`: like `tcpdump -D`.
#[cfg(feature = "live")]
fn list_interfaces() -> Result<ExitCode> {
    let list = wsscope::source::live::interfaces()?;
    let stdout = io::stdout();
    let mut out = stdout.lock();
    for (i, iface) in list.iter().enumerate() {
        let mut flags = Vec::new();
        if iface.up {
            flags.push("Up");
        }
        if iface.running {
            flags.push("Running");
        }
        if iface.loopback {
            flags.push("Loopback");
        }
        let addrs: Vec<String> = iface.addresses.iter().map(ToString::to_string).collect();
        let desc = iface
            .description
            .as_deref()
            .map(|d| format!(" ({d})"))
            .unwrap_or_default();
        writeln!(
            out,
            "{}.{}{desc} [{}] {}",
            i + 1,
            iface.name,
            flags.join(", "),
            addrs.join(" ")
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_line_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
