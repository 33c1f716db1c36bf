# Shared by scripts/up and scripts/test: install what is missing, start what is stopped.
# Idempotent; safe to run on a fresh Debian 12 machine as root, and again on a warm one.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
STATE=${HOTLINE_STATE:-/var/lib/hotline}
APT_PACKAGES=(debootstrap sip-tester postgresql postgresql-client python3 python3-venv
              python3-dev gcc curl ca-certificates espeak-ng sox
              chromium chromium-driver fonts-wqy-microhei)

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "run as root (apt, PostgreSQL and the Asterisk sandbox need it)"

install_packages() {
  local missing=()
  for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    say "installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

python_env() {
  if [ ! -x "$REPO/.venv/bin/python" ]; then
    say "creating the Python environment"
    python3 -m venv "$REPO/.venv"
  fi
  "$REPO/.venv/bin/pip" install -q --disable-pip-version-check -e "$REPO[dev]" 2>&1 \
    | grep -v -e '^WARNING: Location' -e '^$' || true
}

random_secret() { "$REPO/.venv/bin/python" -c 'import secrets; print(secrets.token_hex(16))'; }

secrets_env() {
  mkdir -p "$STATE"
  chmod 700 "$STATE"
  if [ ! -s "$STATE/secrets.env" ]; then
    say "generating local secrets in $STATE/secrets.env"
    ( # umask in a subshell: it must not leak into the sandbox's files
      umask 077
      {
        echo "HOTLINE_ARI_PASSWORD=$(random_secret)"
        echo "HOTLINE_DB_PASSWORD=$(random_secret)"
        echo "HOTLINE_API_TOKEN=$(random_secret)"
      echo "HOTLINE_DEMO_SIP_PASSWORD=$(random_secret)"
      } >"$STATE/secrets.env"
    )
  fi
  grep -q '^HOTLINE_DEMO_SIP_PASSWORD=' "$STATE/secrets.env" ||  # older secrets files
    echo "HOTLINE_DEMO_SIP_PASSWORD=$(random_secret)" >>"$STATE/secrets.env"
  grep -q '^HOTLINE_DEMO_CONSOLE_PASSWORD=' "$STATE/secrets.env" ||
    echo "HOTLINE_DEMO_CONSOLE_PASSWORD=$(random_secret)" >>"$STATE/secrets.env"
  grep -q '^HOTLINE_RETENTION_DB_PASSWORD=' "$STATE/secrets.env" ||
    echo "HOTLINE_RETENTION_DB_PASSWORD=$(random_secret)" >>"$STATE/secrets.env"
  set -a
  # shellcheck disable=SC1091
  . "$STATE/secrets.env"
  set +a
  export HOTLINE_ARI_USER=${HOTLINE_ARI_USER:-hotline}
  export HOTLINE_DATABASE_URL=${HOTLINE_DATABASE_URL:-postgresql://hotline:${HOTLINE_DB_PASSWORD}@127.0.0.1:5432/hotline}
  # The retention job's own role: the only one that may delete the access log's old rows.
  export HOTLINE_RETENTION_DATABASE_URL=${HOTLINE_RETENTION_DATABASE_URL:-postgresql://hotline_retention:${HOTLINE_RETENTION_DB_PASSWORD}@127.0.0.1:5432/hotline}
  export HOTLINE_SPOOL=${HOTLINE_SPOOL:-$STATE/spool.jsonl}
  # Synthesised speech goes where the sandbox's Asterisk reads its sounds.
  HOTLINE_SOUNDS_DIR=${HOTLINE_SOUNDS_DIR:-$("$REPO/asterisk-docker/sandbox.sh" sounds)}
  export HOTLINE_SOUNDS_DIR
}

postgres() {
  local version
  version=$(ls /usr/lib/postgresql | sort -V | tail -n1)
  [ -n "$version" ] || die "PostgreSQL is not installed"
  if ! pg_lsclusters -h | awk '{print $1" "$2}' | grep -q "^$version main$"; then
    pg_createcluster "$version" main >/dev/null
  fi
  pg_ctlcluster "$version" main start 2>/dev/null || true
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 && break; sleep 0.5; done
  pg_isready -q -h 127.0.0.1 || die "PostgreSQL did not start (see /var/log/postgresql/)"
  runuser -u postgres -- psql -q -v ON_ERROR_STOP=1 -v pw="$HOTLINE_DB_PASSWORD" \
    -v rpw="$HOTLINE_RETENTION_DB_PASSWORD" <<'SQL'
SELECT 'CREATE ROLE hotline LOGIN CREATEDB' WHERE NOT EXISTS
  (SELECT FROM pg_roles WHERE rolname = 'hotline') \gexec
ALTER ROLE hotline PASSWORD :'pw';
-- migration 0012 grants this role what the purge needs (nothing more) when it exists
SELECT 'CREATE ROLE hotline_retention LOGIN' WHERE NOT EXISTS
  (SELECT FROM pg_roles WHERE rolname = 'hotline_retention') \gexec
ALTER ROLE hotline_retention PASSWORD :'rpw';
SELECT 'CREATE DATABASE hotline OWNER hotline' WHERE NOT EXISTS
  (SELECT FROM pg_database WHERE datname = 'hotline') \gexec
SQL
}

asterisk_sandbox() {
  "$REPO/asterisk-docker/sandbox.sh" build
  "$REPO/asterisk-docker/sandbox.sh" status >/dev/null 2>&1 || "$REPO/asterisk-docker/sandbox.sh" start
}

bring_up() {
  install_packages
  python_env
  secrets_env
  say "starting PostgreSQL"
  postgres
  say "starting the Asterisk 22 sandbox"
  asterisk_sandbox
}
