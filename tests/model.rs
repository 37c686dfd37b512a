//! The prepared ggml files themselves: what whisper.cpp checks when it loads them (header,
//! hparams, mel filters, vocabulary, the 245 tensors of base with exact shapes and types).
//!
//! The files come from `callqa model prepare` (scripts/test runs it); a missing file fails
//! with instructions instead of skipping.

use std::collections::BTreeMap;
use std::path::PathBuf;

const GGML_F32: i32 = 0;
const GGML_F16: i32 = 1;
const GGML_Q8_0: i32 = 8;

struct Reader {
    bytes: Vec<u8>,
    at: usize,
}

impl Reader {
    fn i32(&mut self) -> i32 {
        let v = i32::from_le_bytes(
            self.bytes[self.at..self.at + 4]
                .try_into()
                .expect("4 bytes"),
        );
        self.at += 4;
        v
    }
    fn skip(&mut self, n: usize) {
        self.at += n;
        assert!(self.at <= self.bytes.len(), "file ends early");
    }
}

/// Bytes of `n` elements of a ggml type (q8_0: blocks of 32 values, f16 scale + 32 bytes).
fn size_of(ty: i32, n: usize) -> usize {
    match ty {
        GGML_F32 => 4 * n,
        GGML_F16 => 2 * n,
        GGML_Q8_0 => n / 32 * 34,
        other => panic!("unexpected ggml type {other}"),
    }
}

/// Each tensor's ggml type and dims (ne, innermost first), by name.
type Tensors = BTreeMap<String, (i32, Vec<i32>)>;

/// A file `callqa model prepare` wrote, where every callqa command looks for it
/// (`CALLQA_MODEL_DIR`, as scripts/test sets it, else the user's data folder).
fn prepared(name: &str) -> PathBuf {
    callqa::settings::model_dir().join(name)
}

/// Reads a ggml Whisper file: hparams and every tensor.
fn read_model(name: &str) -> (Vec<i32>, Tensors) {
    let path = prepared(name);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; run `callqa model prepare` (scripts/test does) to build the model",
            path.display()
        )
    });
    let mut r = Reader { bytes, at: 0 };
    assert_eq!(r.i32() as u32, 0x6767_6d6c, "ggml magic");
    let hparams: Vec<i32> = (0..11).map(|_| r.i32()).collect();
    let (n_mel, n_fft) = (r.i32(), r.i32());
    assert_eq!((n_mel, n_fft), (80, 201), "mel filter bank shape");
    r.skip(4 * (n_mel * n_fft) as usize);
    let n_vocab = r.i32();
    assert_eq!(
        n_vocab, 50_257,
        "text tokens written (specials are synthesised)"
    );
    for _ in 0..n_vocab {
        let len = r.i32() as usize;
        r.skip(len);
    }
    let mut tensors = BTreeMap::new();
    while r.at < r.bytes.len() {
        let (n_dims, name_len, ty) = (r.i32(), r.i32() as usize, r.i32());
        let ne: Vec<i32> = (0..n_dims).map(|_| r.i32()).collect();
        let name = String::from_utf8(r.bytes[r.at..r.at + name_len].to_vec()).expect("name");
        r.skip(name_len);
        r.skip(size_of(ty, ne.iter().product::<i32>() as usize));
        tensors.insert(name, (ty, ne));
    }
    (hparams, tensors)
}

fn check(name: &str, ftype: i32, matrix_type: i32) {
    let (hparams, tensors) = read_model(name);
    assert_eq!(
        hparams,
        vec![51_865, 1500, 512, 8, 6, 448, 512, 8, 6, 80, ftype]
    );
    assert_eq!(
        tensors.len(),
        245,
        "whisper.cpp needs all 245 tensors of base"
    );
    let expect = |tensor: &str, ty: i32, ne: &[i32]| {
        assert_eq!(
            tensors.get(tensor),
            Some(&(ty, ne.to_vec())),
            "{name}: {tensor}"
        );
    };
    expect("encoder.positional_embedding", GGML_F32, &[512, 1500]);
    expect("decoder.positional_embedding", GGML_F32, &[512, 448]);
    expect("encoder.conv1.weight", GGML_F16, &[3, 80, 512]);
    expect("encoder.conv1.bias", GGML_F32, &[1, 512]);
    expect("encoder.conv2.weight", GGML_F16, &[3, 512, 512]);
    expect("encoder.conv2.bias", GGML_F32, &[1, 512]);
    expect(
        "decoder.token_embedding.weight",
        matrix_type,
        &[512, 51_865],
    );
    expect("encoder.blocks.5.attn.key.weight", matrix_type, &[512, 512]);
    expect("encoder.blocks.0.mlp.0.weight", matrix_type, &[512, 2048]);
    expect("encoder.blocks.0.mlp.2.weight", matrix_type, &[2048, 512]);
    expect(
        "decoder.blocks.3.cross_attn.value.weight",
        matrix_type,
        &[512, 512],
    );
    expect("decoder.blocks.3.cross_attn.value.bias", GGML_F32, &[512]);
    expect("decoder.ln.weight", GGML_F32, &[512]);
    // Whisper has no key bias: the converter drops CTranslate2's zero key bias.
    assert!(!tensors.keys().any(|k| k.ends_with("key.bias")));
    for (tensor, (ty, ne)) in &tensors {
        if ne.len() == 1 {
            assert_eq!(*ty, GGML_F32, "{name}: 1-D {tensor} must be f32");
        }
    }
}

#[test]
fn f16_file_has_the_layout_whisper_cpp_requires() {
    check("ggml-base.bin", 1, GGML_F16);
}

#[test]
fn q8_0_file_quantises_matrices_and_keeps_the_rest() {
    check("ggml-base-q8_0.bin", 2007, GGML_Q8_0);
}

#[test]
fn conversion_is_byte_identical_to_the_reference_conversion() {
    // sha256s of an independent numpy conversion of the same weights (same tensor order). They
    // hold on every x86-64 CPU: the converter does no arithmetic whose result depends on the
    // CPU (pure-Rust log/exp for the mel filters, f16 and q8_0 rounding in plain f32; see
    // `src/asr/convert.rs`, whose unit tests compare the rounding with ggml's bit for bit).
    for (name, reference) in callqa::asr::model::KNOWN_MODELS {
        let path = prepared(name);
        let sha = callqa::asr::model::sha256_file(&path).unwrap_or_else(|e| {
            panic!("{e}; run `callqa model prepare` (scripts/test does) to build the model")
        });
        assert_eq!(sha, reference, "{name}");
    }
}
