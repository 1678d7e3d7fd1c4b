# facteur deploy gate for Postfix (see src/gate/postfix.ts for why it exists).
# facteur_gate CONFIG_DIR [RECIPIENT...]: runs CONFIG_DIR's main.cf and master.cf in a
# throwaway Postfix instance inside a private network namespace. Exit 0 when no daemon refused
# the configuration; otherwise exit 1 and one "gate: ..." line per reason on stderr.
# Needs root. Leaves nothing behind. Placeholders @...@ are filled by postfix.ts.

# master's pid, from the pid file Postfix writes right-aligned in 32 columns ("%*lu\n"):
# reading fewer bytes gave only spaces, so the instance was never stopped and outlived the gate.
facteur_gate_master_pid() {
  head -c 64 "$G/q/pid/master.pid" 2>/dev/null | tr -dc 0-9
}

facteur_gate_failures() { # the log lines that mean a daemon refused its configuration or died
  grep -E '@FAILURE_ERE@' "$1" | sed -E 's/^[A-Z][a-z]{2} [ 0-9]{2} [0-9:]{8} [^ ]+ //'
}

# Runs inside the private network namespace: start, connect to every inet service, send the
# probe message, wait for its delivery statuses, stop.
facteur_gate_instance() {
  set -u
  local bad=0 log="$G/log/maillog"
  say() { echo "gate: $*" >&2; bad=1; }
  count() { grep -cE "$1" "$log" 2>/dev/null || true; }
  died() { facteur_gate_failures "$log" | grep -q .; }
  wait_for() { # wait_for PATTERN N SECONDS: until N lines match, a daemon dies, or time is up
    local i=0 limit=$(($3 * 10))
    while [ "$(count "$1")" -lt "$2" ] && ! died && [ $i -lt $limit ]; do sleep 0.1; i=$((i + 1)); done
  }
  ip link set lo up || { say "cannot bring up the loopback of the private network namespace"; return 1; }
  local daemons myhostname out
  { read -r daemons && read -r myhostname; } < <(postconf -c "$G/etc" -h daemon_directory myhostname)
  if ! out=$("$daemons/master" -c "$G/etc" -w 2>&1); then
    # master logs an early fatal through the postlog socket it has just made, with no reader
    # yet: nothing reaches the log. Say what Postfix is known to stop on at that point.
    local why="" svc_name svc_type
    while read -r svc_name svc_type _; do
      case $svc_type in unix | unix-dgram | fifo | pass) ;; *) continue ;; esac
      if [ $((${#svc_name} + 8)) -ge 108 ]; then why="$why; service $svc_name: its socket private/$svc_name is longer than a unix socket name may be (108 bytes)"; fi
    done < <(postconf -c "$G/etc" -M)
    say "master did not start${out:+: $(echo "$out" | tr '\n' ' ')}${why}"
    return 1
  fi
  # A connection to each inet service of master.cf makes master spawn its daemon (postscreen, smtpd).
  local ports=() name type rest p svc fds=() fd
  while read -r name type rest; do
    [ "$type" = inet ] || continue
    svc=${name##*:}
    if [[ $svc =~ ^[0-9]+$ ]]; then p=$svc; else p=$(getent services "$svc/tcp" | awk '{print $2}' | cut -d/ -f1); fi
    if [ -n "$p" ]; then ports+=("$p"); else say "service $name: no port known for it"; fi
  done < <(postconf -c "$G/etc" -M)
  for p in "${ports[@]}"; do
    if exec {fd}<>"/dev/tcp/127.0.0.1/$p"; then fds+=("$fd"); else say "nothing listens on port $p"; fi
  done
  wait_for 'smtpd\[[0-9]+\]: connect from' "${#ports[@]}" @CONNECT_SECONDS@
  for fd in "${fds[@]}"; do exec {fd}>&-; done
  if [ "$(count 'smtpd\[[0-9]+\]: connect from')" -lt "${#ports[@]}" ] && ! died; then
    say "smtpd did not answer on every port (${ports[*]}) within @CONNECT_SECONDS@ s"
  fi
  # The probe message: cleanup and the address maps, qmgr creating each transport it reaches
  # (with that transport's own parameters), and the delivery agents. Nothing can leave.
  if [ $# -gt 0 ] && ! died; then
    printf 'Subject: facteur deploy gate\n\nA probe of the deploy gate; it never leaves its private network.\n' |
      sendmail -C "$G/etc" -f "gate@$myhostname" -- "$@" || say "sendmail refused the probe message"
    wait_for 'status=' $# @DELIVERY_SECONDS@
    if [ "$(count 'status=')" -lt $# ] && ! died; then
      say "$# probe recipient(s) did not reach a delivery agent within @DELIVERY_SECONDS@ s"
    fi
  fi
  local pid i=0
  pid=$(facteur_gate_master_pid)
  if [ -n "$pid" ]; then
    kill -TERM "$pid" 2>/dev/null
    while kill -0 "$pid" 2>/dev/null && [ $i -lt @STOP_TENTHS@ ]; do sleep 0.1; i=$((i + 1)); done
    kill -9 "$pid" 2>/dev/null
  fi
  return $bad
}

facteur_gate() {
  local conf=$1
  shift
  local base=${FACTEUR_GATE_TMP:-/var/tmp} G
  G=$(mktemp -d "$base/facteur-gate.XXXXXX") || { echo "gate: cannot make a private directory in $base" >&2; return 1; }
  (
    cleanup() {
      local pid
      pid=$(facteur_gate_master_pid)
      if [ -n "$pid" ]; then kill -9 "$pid" 2>/dev/null; fi
      rm -rf "$G"
    }
    trap cleanup EXIT
    # The apply script runs under umask 077; the instance's daemons run as postfix and must reach their directories.
    umask 022
    chmod 755 "$G"
    mkdir -p "$G/etc" "$G/data" "$G/log" "$G/q"
    cp "$conf/main.cf" "$conf/master.cf" "$G/etc/" || { echo "gate: no main.cf or master.cf in $conf" >&2; exit 1; }
    # Whole copies, dated back: Postfix would otherwise wait up to 2 s for a main.cf this new
    # to "cool down", in postconf and again in every daemon (src/gate/postfix.ts, cool).
    @COOL@ "$G/etc/main.cf" || exit 1
    # Only the instance's own places change (and what it does not run); every other parameter is the staged value.
    local out
    if ! out=$(postconf -c "$G/etc" -e "config_directory=$G/etc" "queue_directory=$G/q" "data_directory=$G/data" \
      "maillog_file=$G/log/maillog" "maillog_file_prefixes=$G/log" "smtpd_milters=" "non_smtpd_milters=" \
      "sender_canonical_maps=" "recipient_canonical_maps=" 2>&1); then
      echo "gate: postconf cannot read $conf/main.cf: $out" >&2
      exit 1
    fi
    @COOL@ "$G/etc/main.cf" || exit 1
    # The queue layout of Postfix's postfix-files, made directly (post-install takes seconds).
    local owned="active bounce corrupt defer deferred flush hold incoming private saved trace"
    (cd "$G/q" && mkdir $owned maildrop public pid && chown postfix $owned && chmod 700 $owned &&
      chown postfix:postdrop maildrop public && chmod 730 maildrop && chmod 710 public) ||
      { echo "gate: cannot lay out a queue in $G" >&2; exit 1; }
    chown postfix "$G/data" && : >"$G/log/maillog" && chown postfix "$G/log/maillog" || exit 1
    if command -v runuser >/dev/null && ! runuser -u postfix -- test -w "$G/log/maillog"; then
      echo "gate: the postfix user cannot reach $G: set FACTEUR_GATE_TMP to a directory every user may search" >&2
      exit 1
    fi
    export G
    unshare -n bash -c "$(declare -f facteur_gate_master_pid facteur_gate_failures facteur_gate_instance); facteur_gate_instance \"\$@\"" facteur-gate "$@"
    local ns=$?
    local problems
    problems=$(facteur_gate_failures "$G/log/maillog")
    if [ -n "$problems" ]; then
      while IFS= read -r l; do echo "gate: $l" >&2; done <<<"$problems"
      exit 1
    fi
    exit $ns
  )
}

# facteur_gate_apply ROOT CONFIG_DIR [RECIPIENT...]: the apply script's entry. ROOT (FACTEUR_ROOT)
# is set only by tests that run the apply script in a directory: the rendered configuration then
# names paths outside ROOT, where the gate cannot run it, so it stands aside.
facteur_gate_apply() {
  local root=$1
  shift
  if [ -n "$root" ]; then return 0; fi
  facteur_gate "$@"
}
