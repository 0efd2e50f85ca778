//! wsscope command line: argument parsing and error reporting only; the work is in the library.

use std::fs::File;
use std::io::{self, BufReader, IsTerminal, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand, ValueEnum};

use wsscope::export;
use wsscope::model::Capture;
use wsscope::session::SessionConfig;
use wsscope::source::SourceError;
use wsscope::ws::limits::Limits;

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
    /// Do not use colour (also honoured: the NO_COLOR environment variable).
    #[arg(long, global = true)]
    no_color: bool,
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
    /// Largest HTTP head waited for, in bytes.
    #[arg(long, value_name = "BYTES", global = true, default_value_t = Limits::default().max_http_head)]
    max_http_head: usize,
}

impl Common {
    fn session_config(&self) -> SessionConfig {
        SessionConfig {
            limits: Limits {
                max_message_kept: self.max_message,
                max_decompressed: self.max_decompressed,
                max_fragments: self.max_fragments,
                max_flows: self.max_flows.max(1),
                max_out_of_order: self.max_out_of_order,
                max_http_head: self.max_http_head.max(64),
                ..Limits::default()
            },
            ws_ports: self.ports.clone(),
        }
    }
}

#[derive(Subcommand)]
enum Command {
    /// Connections, handshake verdicts, message counts, violations and warnings.
    Summary {
        /// Capture file, or - for standard input.
        file: PathBuf,
    },
    /// One line per frame, like tshark's one-line view.
    Frames {
        /// Capture file, or - for standard input.
        file: PathBuf,
        /// Only this connection (numbered as in the summary).
        #[arg(long = "conn", value_name = "N")]
        conn: Option<u32>,
    },
    /// Machine-readable export (one JSON object per line: connection, frame, message, violation, warning).
    Export {
        /// Capture file, or - for standard input.
        file: PathBuf,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Jsonl)]
        format: Format,
        /// Only this connection.
        #[arg(long = "conn", value_name = "N")]
        conn: Option<u32>,
    },
    /// Sniff an interface live (needs the `live` feature and capture permission).
    Live {
        /// Interface (default: the one libpcap picks).
        #[arg(short = 'i', long)]
        interface: Option<String>,
        /// BPF filter.
        #[arg(short = 'f', long)]
        filter: Option<String>,
        /// Also save the packets to this pcapng file.
        #[arg(short = 'w', long)]
        write: Option<PathBuf>,
    },
    /// List capture interfaces (needs the `live` feature).
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

/// Decodes the input; a reader error that leaves nothing is an `Err`, one after some
/// packets is kept in the capture (`source_error`).
fn load(input: &Input, config: SessionConfig) -> Result<Capture> {
    let reader: Box<dyn Read + Send> = match input {
        Input::Path(p) => Box::new(BufReader::with_capacity(
            1 << 20,
            File::open(p).with_context(|| format!("cannot open {}", p.display()))?,
        )),
        Input::Stdin => Box::new(io::stdin()),
        Input::Demo => Box::new(DEMO),
    };
    match wsscope::decode_reader(reader, config) {
        Ok(c) => Ok(c),
        Err(e @ (SourceError::Empty | SourceError::NotACapture(_))) => Err(anyhow::Error::new(e))
            .with_context(|| format!("{} is not a capture wsscope can read", input.name())),
        Err(e) => {
            Err(anyhow::Error::new(e)).with_context(|| format!("cannot read {}", input.name()))
        }
    }
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

fn run(cli: Cli) -> Result<ExitCode> {
    let common = cli.common.clone();
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    let (capture, input) = match cli.command {
        None => {
            let input = Input::from_arg(cli.file);
            let capture = load(&input, common.session_config())?;
            if io::stdout().is_terminal() {
                eprintln!("wsscope: the terminal UI is not built yet; printing the summary");
            }
            export::summary::write(&mut out, &capture, &input.name())?;
            (capture, input)
        }
        Some(Command::Summary { file }) => {
            let input = Input::from_arg(Some(file));
            let capture = load(&input, common.session_config())?;
            export::summary::write(&mut out, &capture, &input.name())?;
            (capture, input)
        }
        Some(Command::Frames { file, conn }) => {
            let input = Input::from_arg(Some(file));
            let capture = load(&input, common.session_config())?;
            export::frames::write(&mut out, &capture, conn)?;
            (capture, input)
        }
        Some(Command::Export {
            file,
            format: Format::Jsonl,
            conn,
        }) => {
            let input = Input::from_arg(Some(file));
            let capture = load(&input, common.session_config())?;
            export::jsonl::write(&mut out, &capture, conn)?;
            (capture, input)
        }
        Some(Command::Live { .. }) | Some(Command::Interfaces) => {
            anyhow::bail!(
                "this wsscope was built without live capture. Install libpcap (Debian/Ubuntu: apt-get install libpcap-dev) \
                 and rebuild with: cargo build --release --features live"
            );
        }
    };
    out.flush()?;
    if let Some(err) = &capture.source_error {
        eprintln!(
            "wsscope: {}: {err}; everything before it was decoded and is shown above",
            input.name()
        );
        return Ok(ExitCode::from(1));
    }
    if common.strict && capture.violation_count() > 0 {
        return Ok(ExitCode::from(3));
    }
    Ok(ExitCode::SUCCESS)
}
