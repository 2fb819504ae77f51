#!/usr/bin/env bash
# Installs whatever this machine lacks to build and test Latchkey. Idempotent:
# each step checks first. Sourced by scripts/start and scripts/test.
# Versions are pinned (see ../shared/TOOLCHAIN.md); nothing downloads at build
# time except from the package registries.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TRUNK_VERSION=0.21.14
WASM_BINDGEN_VERSION=0.2.129
export PATH="$HOME/.cargo/bin:$ROOT/tools/node_modules/.bin:$PATH"

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    echo "Need root to run: $*" >&2; return 1; fi
}

ensure_rust() {
  command -v cargo >/dev/null || { echo "Rust is missing: install it with rustup (https://rustup.rs) first." >&2; exit 1; }
  if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    say "Adding the wasm32 target"
    rustup target add wasm32-unknown-unknown
  fi
}

ensure_cargo_tool() { # binary, crate, version
  if ! "$1" --version 2>/dev/null | grep -q "$3"; then
    say "Installing $2 $3 (once; a few minutes)"
    cargo install "$2" --version "$3" --locked
  fi
}

ensure_node_deps() { # folder
  command -v npm >/dev/null || { say "Installing Node.js"; as_root apt-get install -y nodejs npm; }
  if [ ! -d "$ROOT/$1/node_modules" ] || [ "$ROOT/$1/package.json" -nt "$ROOT/$1/node_modules" ]; then
    say "Installing npm packages in $1/"
    (cd "$ROOT/$1" && npm install --no-audit --no-fund --loglevel=error && touch node_modules)
  fi
}

ensure_build_tools() {
  ensure_rust
  ensure_cargo_tool trunk trunk "$TRUNK_VERSION"
  ensure_cargo_tool wasm-bindgen wasm-bindgen-cli "$WASM_BINDGEN_VERSION"
  # wasm-opt 132 from npm: Debian's binaryen (108) breaks release builds.
  ensure_node_deps tools
}

ensure_browser() {
  if [ ! -x /usr/bin/chromium ]; then
    say "Installing Debian's Chromium for the end-to-end tests"
    as_root apt-get update -qq && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  fi
  ensure_node_deps end2end
}

# Installs and starts Debian's PostgreSQL with the test set-up the project
# expects: trust authentication on 127.0.0.1:5432, user postgres, database test.
ensure_postgres() {
  if ! command -v pg_ctlcluster >/dev/null; then
    say "Installing PostgreSQL (for the PostgreSQL leg of the tests)"
    as_root apt-get update -qq && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  fi
  local version
  version="$(ls /etc/postgresql 2>/dev/null | sort -n | tail -1)"
  [ -n "$version" ] || { echo "PostgreSQL installed but no cluster found" >&2; return 1; }
  local hba="/etc/postgresql/$version/main/pg_hba.conf"
  if ! as_root grep -q "^host all all 127.0.0.1/32 trust" "$hba"; then
    as_root sed -i '1i host all all 127.0.0.1/32 trust' "$hba"
  fi
  as_root pg_ctlcluster "$version" main start 2>/dev/null || as_root pg_ctlcluster "$version" main reload
  for _ in $(seq 1 30); do (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null && break; sleep 1; done
  psql -h 127.0.0.1 -U postgres -tc "SELECT 1 FROM pg_database WHERE datname = 'test'" | grep -q 1 \
    || psql -h 127.0.0.1 -U postgres -c "CREATE DATABASE test" >/dev/null
}

# Builds the browser bundle into target/site (debug or release).
build_client() {
  local profile="${1:-release}"
  say "Building the browser bundle ($profile)"
  local release=$([ "$profile" = release ] && echo --release)
  local site="$ROOT/target/site"   # Trunk's dist (Trunk.toml), whatever CARGO_TARGET_DIR is
  # Everyone's bundle, then the administrators' (with the console) inside it:
  # Trunk empties its dist first, so this order keeps both.
  (cd "$ROOT" && trunk build $release >/dev/null)
  (cd "$ROOT" && trunk build frontend/console.html $release --dist "$site/pkg/console" --public-url /pkg/console/ >/dev/null)
  rm -f "$site/pkg/index.html" "$site/pkg/console/index.html" "$site/pkg/console/latchkey.css"
  cp -r "$ROOT/public/." "$site/"
  node "$ROOT/scripts/precompress.mjs" "$site/pkg"
  node "$ROOT/scripts/precompress.mjs" "$site/pkg/console"
}
