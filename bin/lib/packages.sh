# Sourced by bin/test and bin/arm64-check: installs the Debian packages whose programs are missing.
#   install_missing COMMAND=PACKAGE...   (COMMAND may be a path, for programs outside PATH)
install_missing() {
  local missing=() pair
  for pair in "$@"; do
    [[ ${pair%%=*} == /* && -e ${pair%%=*} ]] && continue
    command -v "${pair%%=*}" > /dev/null 2>&1 || missing+=("${pair#*=}")
  done
  [[ ${#missing[@]} -eq 0 ]] && return 0
  if [[ $(id -u) -ne 0 ]] || ! command -v apt-get > /dev/null 2>&1; then
    echo "Needed: ${missing[*]} (Debian package names). Install them, or run this as root on Debian/Ubuntu." >&2
    exit 2
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
}
