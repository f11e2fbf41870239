# The two commands of the README: `make run` and `make test`. Both install what is missing first.
# System packages come from Debian's apt (root only); Node.js 24 and every npm package come from npm ci,
# so the system Node.js (20 on Debian 12) is only used to run npm itself.

# redis-server, memcached, dnsmasq-base and snmpd are the real UDP and service daemons of the service lab
# (test/lab/service-daemons.ts), run only inside its network namespaces. dnsmasq-base is the binary without the
# dnsmasq package's system service. No NTP server: Debian's (chrony, ntpsec) conflict with time-daemon, so
# installing one would remove the host's systemd-timesyncd.
SYSTEM_PACKAGES := nmap prometheus prometheus-alertmanager iproute2 nftables libcap2-bin chromium redis-server memcached dnsmasq-base snmpd podman runc debootstrap
# The command each package provides, checked before calling apt so repeat runs stay offline and fast.
SYSTEM_COMMANDS := nmap promtool amtool ip nft setcap chromium redis-server memcached dnsmasq snmpd podman runc debootstrap
# Debian starts a package's service as it installs it: redis on 127.0.0.1:6379, memcached on 11211, snmpd on 161.
# On the host they would show up in every loopback scan of the tests, so the install runs under a policy-rc.d
# that forbids starting services (any existing one is put back afterwards), and the services are then disabled
# for later boots where systemd runs.
SERVICES_NOT_ON_HOST := redis-server memcached snmpd
ARGS ?=

.PHONY: run test test-cloud test-image build deps system-deps bench bench-deps bench-replay bench-smoke clean openstack-up openstack-seed openstack-down

run: build
	npm start --silent -- $(ARGS)

# The benches run only in their smoke modes here: they check that each still works, and time nothing.
test: deps
	npm test
	$(MAKE) --no-print-directory bench-smoke
	$(MAKE) --no-print-directory test-image
	$(MAKE) --no-print-directory test-cloud

# The Dockerfile built with podman against a local stand-in of its base image (no registry is reachable), then
# run: --once as the non-root user with only NET_RAW, a server with a volume (test/image/). About 2 minutes the
# first time; the stand-in is kept for the next run.
test-image: deps
	npm run test:image

# The real-cloud tests: start and seed the OpenStack lab (installing it the first time, about 3 minutes),
# run them, and stop the lab whatever happened; KEEP_LAB=1 leaves it running for the next run.
test-cloud: deps
	bash test/openstack/lab.sh up && bash test/openstack/lab.sh seed && npm run test:cloud; \
	status=$$?; [ "$(KEEP_LAB)" = 1 ] || bash test/openstack/lab.sh down; exit $$status

build: deps
	npm run build --silent

deps: system-deps node_modules/.package-lock.json

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error

system-deps:
	@missing=""; for cmd in $(SYSTEM_COMMANDS); do command -v $$cmd >/dev/null 2>&1 || missing="$$missing $$cmd"; done; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" != 0 ]; then \
	  echo "missing commands:$$missing. Install them as root with: apt-get install -y $(SYSTEM_PACKAGES)" >&2; exit 1; \
	fi; \
	echo "installing$$missing from Debian packages: $(SYSTEM_PACKAGES)"; \
	policy=/usr/sbin/policy-rc.d; saved=""; \
	if [ -e $$policy ]; then saved=$$(mktemp); cp -p $$policy $$saved; fi; \
	printf '#!/bin/sh\n# exposure-exporter: no service starts while its packages install\nexit 101\n' > $$policy; chmod 755 $$policy; \
	DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(SYSTEM_PACKAGES) >/dev/null; \
	status=$$?; \
	if [ -n "$$saved" ]; then mv $$saved $$policy; else rm -f $$policy; fi; \
	if [ -d /run/systemd/system ]; then systemctl disable --now $(SERVICES_NOT_ON_HOST) >/dev/null 2>&1; fi; \
	exit $$status

# What bench/replay.ts compares the exporter with: python-nmap, from Debian's python3-nmap (root). Not part of
# `make test`: benches time things, tests never do.
bench-deps:
	@/usr/bin/python3 -c 'import nmap' 2>/dev/null && exit 0; \
	if [ "$$(id -u)" != 0 ]; then echo "python3-nmap is missing. Install it as root with: apt-get install -y python3-nmap" >&2; exit 1; fi; \
	DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-nmap >/dev/null

# The exporter --once on a replayed 20,000-host scan against python-nmap (bench/README.md); a few minutes.
bench-replay: build bench-deps
	npx node bench/replay.ts

# Every figure of the performance targets, each beside its baseline measured in the same run (bench/README.md):
# --once against raw nmap, known addresses against a blind sweep, the 20,000-host replay against python-nmap,
# /metrics at 20,000 hosts with and without gzip, a UDP and a service verification pass against the TCP pass,
# the parser and thousands of cycles, VMs behind drop-all firewalls (sweeps, known cycles, the predicted durations),
# a year of ticket history. Root; about 65 minutes.
bench: build bench-deps
	npx node bench/overhead.ts
	npx node bench/sweep.ts
	npx node bench/replay.ts
	npx node bench/scrape.ts
	npx node bench/udp-verify.ts
	npx node bench/firewall.ts
	npx node bench/inventory-file.ts
	npx node bench/history.ts
	npm run bench

# Each bench on a few hosts, once: checks that every script and its lab still work, in about three minutes.
bench-smoke: build bench-deps
	npx node bench/replay.ts --smoke
	npx node bench/scrape.ts --smoke
	npx node bench/sweep.ts --smoke
	npx node bench/overhead.ts --smoke
	npx node bench/udp-verify.ts --smoke
	npx node bench/firewall.ts --smoke
	npx node bench/inventory-file.ts --smoke
	npx node bench/history.ts --smoke

clean:
	rm -rf dist node_modules

# A real OpenStack control plane on 127.0.0.1 for integration tests (root; see test/openstack/README.md).
openstack-up:
	bash test/openstack/lab.sh up

openstack-seed:
	bash test/openstack/lab.sh seed

openstack-down:
	bash test/openstack/lab.sh down
