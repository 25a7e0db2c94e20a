# shellcheck shell=bash
# Shared by scripts/serve and scripts/test (sourced, not run): find Python 3.11+, create .venv,
# install the package into it, and skip the install when nothing changed since the last one.
#
# The install is keyed on a hash of pyproject.toml and the extras, stored in .venv; the
# package is installed editable, so source edits never need a reinstall.

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$REPO_ROOT/.venv"

say() { printf '%s\n' "$*" >&2; }
die() {
    say "error: $*"
    exit 1
}

# The first of $PYTHON, python3.13, python3.12, python3.11, python3 that is 3.11 or newer.
find_python() {
    local candidate
    for candidate in ${PYTHON:-} python3.13 python3.12 python3.11 python3; do
        if command -v "$candidate" >/dev/null 2>&1 &&
            "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
            command -v "$candidate"
            return 0
        fi
    done
    return 1
}

ensure_venv() {
    if [[ -x "$VENV/bin/python" ]] && "$VENV/bin/python" -c 'import sys' 2>/dev/null; then
        return 0
    fi
    local python
    python="$(find_python)" || die "Python 3.11 or newer is needed (set PYTHON=/path/to/python3)."
    say "creating $VENV with $python"
    if ! "$python" -m venv --clear "$VENV"; then
        die "could not create $VENV with $python; on Debian/Ubuntu install the venv module" \
            "(apt-get install python3-venv) and run this again."
    fi
}

# install_key EXTRAS: what an install depends on (pyproject.toml, extras, venv Python version).
install_key() {
    "$VENV/bin/python" - "$REPO_ROOT/pyproject.toml" "${1:-}" <<'PY'
import hashlib, platform, sys
data = open(sys.argv[1], "rb").read()
print(hashlib.sha256(data + sys.argv[2].encode() + platform.python_version().encode()).hexdigest())
PY
}

stamp_file() { printf '%s' "$VENV/.tiktok-sandbox-installed${1:+-$1}"; }

# ensure_installed EXTRAS: pip install -e ".[EXTRAS]" (or ".") unless the stamp says it is done.
# An install with extras also stamps the plain install, which it includes.
ensure_installed() {
    local extras="${1:-}" target="." key stamp
    [[ -n "$extras" ]] && target=".[$extras]"
    key="$(install_key "$extras")" || die "$VENV/bin/python does not run; delete $VENV and retry."
    stamp="$(stamp_file "$extras")"
    if [[ -f "$stamp" && "$(cat "$stamp")" == "$key" && -x "$VENV/bin/tiktok-sandbox" ]]; then
        return 0
    fi
    say "installing tiktok-sandbox${extras:+ with [$extras]} into $VENV (pip, quiet)"
    (cd "$REPO_ROOT" && "$VENV/bin/python" -m pip install -qq --disable-pip-version-check \
        -e "$target") || die "pip install -e '$target' failed (see pip's output above)."
    printf '%s\n' "$key" >"$stamp"
    if [[ -n "$extras" ]]; then
        install_key "" >"$(stamp_file "")"
    fi
}
