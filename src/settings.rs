//! Where each piece of configuration comes from, so `callqa` works from any folder: cron runs
//! from `/`, and a `cargo install` user has no clone.
//!
//! Every piece (lexicons, rubrics, calendar, model, jobs, dead-air threshold, redaction) is
//! taken from the first of: an explicit command-line flag, the settings file `callqa.toml`,
//! the default. The settings file is `--config FILE`, else `$CALLQA_CONFIG`, else
//! `$XDG_CONFIG_HOME/callqa/callqa.toml` (`~/.config/callqa/callqa.toml`); relative paths in
//! it are relative to the file's folder. The default lexicons, rubrics, calendar and
//! scorecards are the shipped ones, compiled into the binary; `callqa init DIR` writes
//! editable copies. The model lives in `$CALLQA_MODEL_DIR`, else
//! `$XDG_DATA_HOME/callqa/models` (`~/.local/share/callqa/models`), where `callqa model
//! prepare` puts it.
//!
//! The loaders read folders, so the compiled-in defaults are written once into a folder named
//! by their content hash under the cache (`$CALLQA_CACHE`, `$XDG_CACHE_HOME/callqa` or
//! `~/.cache/callqa`) and read from there: one code path for shipped and edited configuration,
//! and a changed binary never reads another version's copy.

mod file;

use std::path::{Path, PathBuf};

pub use file::{SettingsError, SettingsFile};

/// The shipped configuration: (path relative to the repository, content).
const EMBEDDED: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/embedded.rs"));

/// Name of the model file used unless told otherwise.
pub const MODEL_FILE: &str = "ggml-base-q8_0.bin";

/// Where a piece of configuration came from (`callqa check` says it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    Flag,
    Settings(PathBuf),
    Shipped,
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Origin::Flag => write!(f, "command line"),
            Origin::Settings(p) => write!(f, "settings {}", p.display()),
            Origin::Shipped => write!(f, "shipped defaults"),
        }
    }
}

/// A resolved path and where it came from.
#[derive(Clone, Debug)]
pub struct Resolved {
    pub path: PathBuf,
    pub origin: Origin,
}

/// The settings in force: the file (if any) and where it is.
#[derive(Debug, Default)]
pub struct Settings {
    pub file: SettingsFile,
    pub path: Option<PathBuf>,
}

impl Settings {
    /// Finds and reads the settings file; none at the default places is not an error.
    pub fn find(explicit: Option<&Path>) -> Result<Settings, SettingsError> {
        let given = explicit
            .map(Path::to_path_buf)
            .or_else(|| env_path("CALLQA_CONFIG"));
        let path = match given {
            Some(p) => p,
            None => match config_home().map(|d| d.join("callqa/callqa.toml")) {
                Some(p) if p.exists() => p,
                _ => return Ok(Settings::default()),
            },
        };
        let text = std::fs::read_to_string(&path).map_err(|source| SettingsError::Read {
            path: path.clone(),
            source,
        })?;
        let file = SettingsFile::parse(&path, &text)?;
        Ok(Settings {
            file,
            path: Some(path),
        })
    }

    /// A path given by a flag, else by the settings file (relative to its folder).
    fn pick(&self, flag: Option<&Path>, setting: Option<&PathBuf>) -> Option<Resolved> {
        if let Some(p) = flag {
            return Some(Resolved {
                path: p.to_path_buf(),
                origin: Origin::Flag,
            });
        }
        let file = self.path.as_ref()?;
        let base = file.parent().unwrap_or(Path::new("."));
        setting.map(|p| Resolved {
            path: base.join(p),
            origin: Origin::Settings(file.clone()),
        })
    }

    /// A configuration folder: flag, settings, or the shipped copy.
    pub fn folder(&self, flag: Option<&Path>, kind: Folder) -> Result<Resolved, SettingsError> {
        let setting = match kind {
            Folder::Lexicons => self.file.lexicons.as_ref(),
            Folder::Rubrics => self.file.rubrics.as_ref(),
            Folder::Calendars => self.file.calendars.as_ref(),
            Folder::Scorecards => self.file.scorecards.as_ref(),
        };
        match self.pick(flag, setting) {
            Some(r) => Ok(r),
            None => Ok(Resolved {
                path: shipped()?.join(kind.name()),
                origin: Origin::Shipped,
            }),
        }
    }

    /// The Whisper model file: flag (or `$CALLQA_MODEL`), settings, or the prepared default.
    pub fn model(&self, flag: Option<&Path>) -> Resolved {
        self.pick(flag, self.file.model.as_ref())
            .unwrap_or_else(|| Resolved {
                path: model_dir().join(MODEL_FILE),
                origin: Origin::Shipped,
            })
    }
}

/// The configuration folders QA staff own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Folder {
    Lexicons,
    Rubrics,
    Calendars,
    Scorecards,
}

impl Folder {
    pub const ALL: [Folder; 4] = [
        Folder::Lexicons,
        Folder::Rubrics,
        Folder::Calendars,
        Folder::Scorecards,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Folder::Lexicons => "lexicons",
            Folder::Rubrics => "rubrics",
            Folder::Calendars => "calendars",
            Folder::Scorecards => "scorecards",
        }
    }
}

fn env_path(name: &str) -> Option<PathBuf> {
    std::env::var_os(name)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

fn home_join(rel: &str) -> Option<PathBuf> {
    env_path("HOME").map(|h| h.join(rel))
}

fn config_home() -> Option<PathBuf> {
    env_path("XDG_CONFIG_HOME").or_else(|| home_join(".config"))
}

/// The cache callqa keeps outside any clone.
pub fn cache_dir() -> PathBuf {
    env_path("CALLQA_CACHE")
        .or_else(|| env_path("XDG_CACHE_HOME").map(|d| d.join("callqa")))
        .or_else(|| home_join(".cache/callqa"))
        .unwrap_or_else(|| std::env::temp_dir().join("callqa-cache"))
}

/// Where `callqa model prepare` puts the model and every command looks for it.
pub fn model_dir() -> PathBuf {
    env_path("CALLQA_MODEL_DIR")
        .or_else(|| env_path("XDG_DATA_HOME").map(|d| d.join("callqa/models")))
        .or_else(|| home_join(".local/share/callqa/models"))
        .unwrap_or_else(|| std::env::temp_dir().join("callqa-models"))
}

/// The shipped configuration as files, unpacked once per version into the cache (and looked
/// up once per process: every folder a command resolves asks for it).
pub fn shipped() -> Result<PathBuf, SettingsError> {
    static DIR: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    if let Some(dir) = DIR.get() {
        return Ok(dir.clone());
    }
    let dir = unpack_shipped()?;
    Ok(DIR.get_or_init(|| dir).clone())
}

fn unpack_shipped() -> Result<PathBuf, SettingsError> {
    let mut parts: Vec<&str> = Vec::new();
    for (name, text) in EMBEDDED {
        parts.extend([*name, *text]);
    }
    let version = crate::util::digest(&parts);
    let dir = cache_dir().join(format!("shipped-{}", &version[..16]));
    if dir.join(".complete").exists() {
        return Ok(dir);
    }
    let fail = |path: &Path| {
        let path = path.to_path_buf();
        move |source| SettingsError::Unpack { path, source }
    };
    write_tree(&dir).map_err(fail(&dir))?;
    crate::util::write_atomic(&dir.join(".complete"), b"").map_err(fail(&dir))?;
    Ok(dir)
}

/// Writes every shipped file under `root`, keeping their folders.
fn write_tree(root: &Path) -> std::io::Result<()> {
    for (name, text) in EMBEDDED {
        let path = root.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        crate::util::write_atomic(&path, text.as_bytes())?;
    }
    Ok(())
}

/// A commented settings file naming the copies `init` writes beside it.
const SETTINGS_EXAMPLE: &str = "# callqa settings. Flags on the command line win over these lines.
# Paths are relative to this file's folder.
lexicons = \"lexicons\"
rubrics = \"rubrics\"
calendars = \"calendars\"
scorecards = \"scorecards\"
# model = \"models/ggml-base-q8_0.bin\"  # default: the folder `callqa model prepare` fills
# jobs = 2                               # default: one per core
# dead_air_ms = 5000
# redact = false                         # true: hide phone, ID-card and bank numbers in every output
";

/// `callqa init DIR`: editable copies of the shipped configuration and a settings file.
/// Refuses to overwrite anything, so a QA lead's edits are never lost.
pub fn init(dir: &Path) -> Result<PathBuf, SettingsError> {
    let settings = dir.join("callqa.toml");
    for folder in Folder::ALL {
        let path = dir.join(folder.name());
        if path.exists() {
            return Err(SettingsError::Exists {
                path,
                what: "a configuration folder",
            });
        }
    }
    if settings.exists() {
        return Err(SettingsError::Exists {
            path: settings,
            what: "a settings file",
        });
    }
    let fail = |source| SettingsError::Unpack {
        path: dir.to_path_buf(),
        source,
    };
    write_tree(dir).map_err(fail)?;
    crate::util::write_atomic(&settings, SETTINGS_EXAMPLE.as_bytes()).map_err(fail)?;
    Ok(settings)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_configuration_is_compiled_in() {
        for folder in ["lexicons/", "rubrics/", "calendars/"] {
            assert!(
                EMBEDDED
                    .iter()
                    .any(|(n, t)| n.starts_with(folder) && !t.is_empty()),
                "{folder} is not embedded"
            );
        }
    }

    #[test]
    fn init_writes_copies_and_a_settings_file_that_reads_back() {
        let dir = tempfile::tempdir().expect("tempdir");
        let settings = init(dir.path()).expect("init");
        let read = Settings::find(Some(&settings)).expect("settings read");
        let lex = read.folder(None, Folder::Lexicons).expect("lexicons");
        assert_eq!(lex.path, dir.path().join("lexicons"));
        assert!(matches!(lex.origin, Origin::Settings(_)));
        assert!(lex.path.join("反问.txt").exists());
        let again = init(dir.path()).expect_err("second init must refuse");
        assert!(again.to_string().contains("never overwrites"), "{again}");
    }

    #[test]
    fn a_flag_wins_over_the_settings_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let settings = init(dir.path()).expect("init");
        let read = Settings::find(Some(&settings)).expect("settings read");
        let r = read
            .folder(Some(Path::new("elsewhere")), Folder::Rubrics)
            .expect("rubrics");
        assert_eq!(
            (r.path, r.origin),
            (PathBuf::from("elsewhere"), Origin::Flag)
        );
    }

    #[test]
    fn a_bad_settings_line_is_named() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("callqa.toml");
        std::fs::write(&path, "jobs = 2\nlexicon = \"x\"\n").expect("write");
        let e = Settings::find(Some(&path)).expect_err("unknown key");
        assert!(e.to_string().contains("callqa.toml:2"), "{e}");
    }
}
