# Shell functions shared by the suites that drive a real, headless Thunderbird
# (tests/e2e/run.sh, tests/pkcs11/run.sh). Sourced from the repository's top folder:
#   . tests/common/thunderbird.sh
# The caller sets `work` (its temporary folder) before `trap tb_cleanup EXIT`.

tb_pid=
tb_port=

# The Python virtual environment with the Marionette client: `venv` names it.
tb_venv() {
  venv=target/e2e-venv
  if ! "$venv/bin/python" -c 'import marionette_driver' 2>/dev/null; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet "marionette_driver==3.7.1"
  fi
}

# tb_env WORK: a fresh HOME and companion data folder below WORK, and nothing from this machine's
# system-wide anchors or configuration (/etc/smime-companion).
tb_env() {
  export HOME=$1/home                                    # Thunderbird and the host manifest live here
  export SMIME_COMPANION_HOME=$1/companion               # the host's (and the module's) data
  export SMIME_COMPANION_SYSTEM_ANCHORS=$1/no-anchors
  export SMIME_COMPANION_SYSTEM_CONFIG=$1/no-config.json
  mkdir -p "$HOME" "$SMIME_COMPANION_HOME/anchors" "$SMIME_COMPANION_SYSTEM_ANCHORS"
}

# tb_reader_profile PROFILE PKI: Thunderbird's certificate store in PROFILE with Bob's key (so
# Thunderbird decrypts what is encrypted to him) and the test CA trusted (so its own S/MIME signs,
# encrypts and verifies with the test PKI). PKI is the folder tests/e2e/make-messages.sh fills.
tb_reader_profile() {
  certutil -N -d "sql:$1" --empty-password
  pk12util -i "$2/bob.p12" -d "sql:$1" -W "" >/dev/null
  certutil -A -n "E2E Test CA" -t "C,C,C" -i "$2/e2e-ca.pem" -d "sql:$1"
}

# The EXIT trap: stops Thunderbird; keeps $work when the suite failed or KEEP=1 (copying
# $work/thunderbird.log into $tb_artifacts when that is set), removes it otherwise.
tb_cleanup() {
  local rc=$?
  if [ -n "$tb_pid" ]; then kill "$tb_pid" 2>/dev/null || true; wait "$tb_pid" 2>/dev/null || true; fi
  if [ $rc -ne 0 ] || [ "${KEEP:-0}" = 1 ]; then
    if [ -n "${tb_artifacts:-}" ]; then cp "$work/thunderbird.log" "$tb_artifacts/" 2>/dev/null || true; fi
    echo "work folder kept: $work"
  else
    rm -rf "$work"
  fi
}

# tb_start PROFILE LOG [THUNDERBIRD ARGUMENT...]: starts a headless Thunderbird with Marionette on
# PROFILE (output to LOG) and waits at most 30 s for its Marionette port. Sets tb_pid and tb_port;
# says why and returns 1 when Thunderbird exits early or opens no port. The array `tb_wrap`, when
# set, is the command Thunderbird is started through (one that ends by exec-ing its arguments).
tb_start() {
  local profile=$1 log=$2
  shift 2
  ${tb_wrap[@]+"${tb_wrap[@]}"} thunderbird --headless --marionette --remote-allow-system-access --no-remote --profile "$profile" "$@" \
    > "$log" 2>&1 < /dev/null &
  tb_pid=$!
  for _ in $(seq 300); do
    if [ -s "$profile/MarionetteActivePort" ]; then
      tb_port=$(cat "$profile/MarionetteActivePort")
      return 0
    fi
    kill -0 "$tb_pid" 2>/dev/null || { echo "Thunderbird exited early"; tail -n 20 "$log"; return 1; }
    sleep 0.1
  done
  echo "no Marionette port after 30 s"
  return 1
}
