//! `callqa transcribe`: decode recordings, find speech, and print what Whisper heard per role.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use crate::asr::{AsrConfig, Model, Transcriber};
use crate::audio::VadConfig;
use crate::AgentChannel;

/// Arguments of `callqa transcribe`.
#[derive(Debug, clap::Args)]
pub struct TranscribeArgs {
    /// Recordings to transcribe.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Which channel carries the agent.
    #[arg(long, value_enum, default_value = "left")]
    pub agent_channel: AgentChannel,
    /// Print one JSON object per file (`file`, `transcripts`).
    #[arg(long)]
    pub json: bool,
    /// ggml Whisper model file [default: settings, else the file `callqa model prepare` wrote].
    #[arg(long, env = "CALLQA_MODEL")]
    pub model: Option<PathBuf>,
    /// Settings file [default: $CALLQA_CONFIG, else $XDG_CONFIG_HOME/callqa/callqa.toml].
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Use a model file that is not one of the two `callqa model prepare` builds.
    #[arg(long)]
    pub allow_unverified_model: bool,
    /// whisper.cpp threads.
    #[arg(long, default_value_t = 1)]
    pub threads: usize,
}

pub fn run(args: TranscribeArgs) -> anyhow::Result<ExitCode> {
    let settings = crate::settings::Settings::find(args.config.as_deref())?;
    let path = settings.model(args.model.as_deref()).path;
    let model = Arc::new(Model::load_checked(&path, args.allow_unverified_model)?);
    let config = AsrConfig {
        threads: args.threads,
        ..AsrConfig::default()
    };
    let mut transcriber = Transcriber::new(&model, &config)?;
    let mut failed = false;
    for file in &args.files {
        match crate::asr::transcribe_file(
            &mut transcriber,
            file,
            args.agent_channel,
            &VadConfig::default(),
        ) {
            Ok(transcripts) if args.json => {
                let line = serde_json::json!({ "file": file, "transcripts": transcripts });
                println!("{line}");
            }
            Ok(transcripts) => {
                println!("{}", file.display());
                for t in &transcripts {
                    for s in &t.segments {
                        println!(
                            "  [{:>7.2}–{:>7.2}] {:<8} {}",
                            s.start_ms as f64 / 1000.0,
                            s.end_ms as f64 / 1000.0,
                            t.role.as_str(),
                            s.text
                        );
                    }
                }
            }
            Err(e) => {
                failed = true;
                eprintln!("{e}");
            }
        }
    }
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
