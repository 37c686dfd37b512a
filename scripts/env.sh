# Shared setup for scripts/demo and scripts/test: sourced, not run.
# Installs what a fresh Debian machine lacks and points cargo at a build cache outside the clone.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CALLQA_CACHE="${CALLQA_CACHE:-$HOME/.cache/callqa}"
# whisper.cpp is compiled for the CPU that builds it (-march=native: on an AVX-512 machine its
# CPU time per call is 1.6x lower than a portable AVX build's), and such a build stops with SIGILL
# on a CPU without those instructions. So a cached build is reused only on a CPU with the same
# instruction sets: the build folder is named after them.
isa_key() {
    { grep -m1 '^flags' /proc/cpuinfo 2>/dev/null || true; } | tr ' ' '\n' |
        grep -E '^(sse4_2|avx|avx2|fma|f16c|bmi2|avx512.*|avx_vnni|amx_.*)$' | sort |
        sha256sum | cut -c1-12
}
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$CALLQA_CACHE/target-$(isa_key)}"
mkdir -p "$CALLQA_CACHE"

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

# Debian packages: cmake/clang build whisper.cpp (bindgen needs libclang, for FFmpeg's bindings
# too), the libav*/libswresample headers link FFmpeg's decoders (the default `ffmpeg` feature),
# sox makes and checks audio.
APT_PACKAGES=(cmake clang libclang-dev pkg-config sox libsox-fmt-all
    libavformat-dev libavcodec-dev libavutil-dev libswresample-dev)

ensure_apt() {
    local missing=()
    for p in "$@"; do
        dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
    done
    if ((${#missing[@]})); then
        say "installing Debian packages: ${missing[*]}"
        local sudo=()
        [ "$(id -u)" -ne 0 ] && sudo=(sudo)
        "${sudo[@]}" apt-get update -qq
        DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
    fi
}

ensure_rust() {
    if ! command -v cargo >/dev/null 2>&1; then
        echo "cargo not found: install the Rust toolchain with rustup (or your distribution's rustup package) and run this again" >&2
        exit 2
    fi
}

ensure_apt "${APT_PACKAGES[@]}"
ensure_rust
cd "$REPO"
