# Sourced by demo.sh and test-setup.sh. apt_retry CMD...: runs an apt-get command, and while another install (the
# other script, unattended upgrades) holds apt's locks, waits and tries again for up to 10 minutes instead of failing;
# apt-get's DPkg::Lock::Timeout covers dpkg's lock but not the package lists' lock that `update` takes.
apt_retry() {
  local attempt output
  for attempt in $(seq 120); do
    if output=$("$@" 2>&1); then return 0; fi
    grep -q "Could not get lock" <<<"$output" || break
    sleep 5
  done
  echo "$output" >&2
  return 1
}
