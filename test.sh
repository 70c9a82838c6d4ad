#!/usr/bin/env bash
# The test command (README.md): installs what the tests need when it is missing, then runs them.
# Extra arguments go to `dotnet test` (e.g. --filter "Category!=Slow" for the fast inner loop).
set -euo pipefail
cd "$(dirname "$0")"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

# Debian packages the tests need: python3 (default corpus, syntax checks of generated code),
# chromium (the viewer's browser tests drive /usr/bin/chromium through Playwright's bundled
# driver; never `playwright install`), and slurm-wlm with munge (the Slurm sweep test starts a
# private one-node cluster of its own from these binaries; it neither needs nor touches the
# system's Slurm or munge services).
missing=()
command -v python3 >/dev/null 2>&1 || missing+=(python3)
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ -x /usr/sbin/slurmctld ] && [ -x /usr/sbin/slurmd ] && command -v sbatch >/dev/null 2>&1 || missing+=(slurm-wlm)
[ -x /usr/sbin/munged ] && [ -x /usr/sbin/mungekey ] || missing+=(munge)
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  # Refresh the package lists only when the install cannot find the packages without it.
  $sudo apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1 \
    || { $sudo apt-get update -qq && $sudo apt-get install -y -qq "${missing[@]}" >/dev/null; }
fi

dotnet test SparseCircuits.slnx -c Release "$@"
