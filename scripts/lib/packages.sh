# Sourced: need_packages WHO [--no-install-recommends] PACKAGE...
# Installs the Debian packages that are missing (as root, or with password-less sudo);
# returns 1, saying the command to run, when it cannot. WHO names the script in messages.
need_packages() {
  local who=$1 options=() missing=() pkg
  shift
  if [ "${1:-}" = --no-install-recommends ]; then options+=("$1"); shift; fi
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  ((${#missing[@]} == 0)) && return 0
  echo "$who: installing ${missing[*]}" >&2
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
      sudo=(sudo)
    else
      echo "$who: missing ${missing[*]} and not root." >&2
      echo "  run: sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
      return 1
    fi
  fi
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${options[@]}" "${missing[@]}" >/dev/null
}
