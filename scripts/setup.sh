#!/usr/bin/env bash
# Installs what cloudgate needs, once: Debian packages (as root), the local EC2 API
# for tests, npm dependencies, and the TypeScript build. Quiet and fast when all is there.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { echo "cloudgate setup: $*" >&2; }

major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$major" -lt 20 ]; then say "Node.js 20 or newer is required (found $(node -v))"; exit 1; fi

# ejabberd: the XMPP server; openssl: its certificate; libvirt-dev, pkg-config, g++,
# make, python3: to build the libvirt binding; genisoimage: config-drive ISOs for
# libvirt guests; python3-pip: the local EC2 API for tests; chromium: the browser test
# of the web pages; the OpenStack services, MariaDB and RabbitMQ: the OpenStack test cloud
# (test/helpers/openstack; started from /usr/bin, never as system services).
DEBS=(ejabberd openssl libvirt-dev pkg-config g++ make python3 python3-pip genisoimage chromium
  keystone placement-api glance-api nova-api nova-conductor nova-scheduler neutron-api rabbitmq-server mariadb-server)
missing=()
for p in "${DEBS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Go's standard library (crypto/ed25519) checks signed image envelopes independently in
# the tests (test/images/vector); nothing else needs it. Any Go will do.
if ! command -v go >/dev/null 2>&1 && [ ! -x /usr/local/go/bin/go ]; then missing+=(golang-go); fi
# pip from another Python (pyenv, venv) is as good as Debian's.
if [[ " ${missing[*]} " == *" python3-pip "* ]] && python3 -m pip --version >/dev/null 2>&1; then
  missing=("${missing[@]/python3-pip}"); read -r -a missing <<<"${missing[*]}"
fi
need_moto=0
python3 -c 'import moto.server, flask_cors' >/dev/null 2>&1 || need_moto=1

if [ "$(id -u)" -ne 0 ]; then
  if [ ${#missing[@]} -gt 0 ] || [ $need_moto -eq 1 ]; then
    msg="not running as root, so nothing was installed. Install, then run this again:"
    [ ${#missing[@]} -gt 0 ] && msg+=$'\n'"  sudo apt-get install -y ${missing[*]}"
    [ $need_moto -eq 1 ] && msg+=$'\n'"  python3 -m pip install --user 'moto[server]'"
    say "$msg"; exit 1
  fi
else
  if [ ${#missing[@]} -gt 0 ]; then
    say "installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    # The packages' own services are not ours: a policy-rc.d that refuses keeps their
    # maintainer scripts from starting them (and taking ports) on a machine with an init.
    own_policy=0
    if [ ! -e /usr/sbin/policy-rc.d ]; then
      printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && own_policy=1
    fi
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    [ $own_policy -eq 0 ] || rm -f /usr/sbin/policy-rc.d
  fi
  if [ $need_moto -eq 1 ]; then
    say "installing the local EC2 API (moto) for tests"
    python3 -m pip install -q "moto[server]" 2>/dev/null || python3 -m pip install -q --break-system-packages "moto[server]"
  fi
fi


# npm dependencies: reinstall only when the lock file changed since the last install.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing npm dependencies"
  npm ci --no-audit --no-fund --loglevel=error
fi

# Build: only when a source is newer than the last build.
stamp=dist/.build-stamp
if [ ! -f "$stamp" ] || [ -n "$(find core protocols images agents drivers ejabberd test bench examples tsconfig.json package.json -newer "$stamp" \( -name '*.ts' -o -name '*.json' -o -name '*.tpl' \) -print -quit 2>/dev/null)" ]; then
  say "building"
  npx tsc -p tsconfig.json
  touch "$stamp"
fi
