# postroom — build, test, install.
# A fresh Debian machine needs only Swift: every target installs what it uses.

PREFIX     ?= /usr/local
LIBEXECDIR ?= $(PREFIX)/libexec/postroom
BINDIR     ?= $(PREFIX)/bin
MANDIR     ?= $(PREFIX)/share/man
SWIFT      ?= swift
CONFIG     ?= release

STAGES     := $(notdir $(wildcard Sources/expand Sources/render Sources/route Sources/deliver Sources/mark Sources/verify))
BUILD_DEBS := libcurl4-openssl-dev libmagic-dev pkg-config
TEST_DEBS  := mandoc util-linux python3 python3-aiosmtpd openssl exim4-daemon-light opendkim-tools iproute2 \
              procmail dnsmasq-base bind9-dnsutils publicsuffix python3-dkim python3-authres time strace jq
BENCH_DEBS := time bc hyperfine
# The list benchmark's comparison; bench/route-list.sh says so and skips it when it cannot be installed.
BENCH_OPTIONAL_DEBS := mlmmj

# Postfix conflicts with exim4, so its binaries are unpacked here rather than installed:
# the tests run a private Postfix from this tree, the benchmarks its smtp-sink and smtp-source.
POSTFIX_TOOLS := .build/postfix-tools

# Install Debian packages only when dpkg says they are missing.
define need-debs
	@missing=""; for p in $(1); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi
endef

.PHONY: all build deps test-deps bench-deps postfix-tools test test-static crash-test lint-man lint-format install uninstall bench demo clean

all: build

# route reads the public suffix list at run time (DMARC's organisational domain).
RUN_DEBS := publicsuffix
# The SRS tests check route against Debian's postsrsd, unpacked here rather than installed
# (installing it would start a system daemon).
POSTSRSD := .build/postsrsd

deps:
	$(call need-debs,$(BUILD_DEBS) $(RUN_DEBS))

test-deps: deps postfix-tools
	$(call need-debs,$(TEST_DEBS))

test-deps: $(POSTSRSD)/usr/sbin/postsrsd

$(POSTSRSD)/usr/sbin/postsrsd:
	rm -rf $(POSTSRSD) && mkdir -p $(POSTSRSD)
	cd $(POSTSRSD) && apt-get download postsrsd && dpkg -x postsrsd_*.deb .

bench-deps: deps postfix-tools
	$(call need-debs,$(BENCH_DEBS))
	-$(call need-debs,$(BENCH_OPTIONAL_DEBS))

# Postfix's daemons need their users (mail_owner postfix, setgid_group postdrop); created only when missing.
postfix-tools: $(POSTFIX_TOOLS)/usr/sbin/postfix
	@SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	getent group postdrop > /dev/null || $$SUDO groupadd --system postdrop; \
	getent passwd postfix > /dev/null || \
	  $$SUDO useradd --system --user-group --home-dir /nonexistent --no-create-home --shell /usr/sbin/nologin postfix

$(POSTFIX_TOOLS)/usr/sbin/postfix:
	@mkdir -p $(POSTFIX_TOOLS)
	download=$$(mktemp -d) && chmod 755 $$download && (cd $$download && apt-get download postfix > /dev/null) && \
	  dpkg -x $$download/postfix_*.deb $(POSTFIX_TOOLS); status=$$?; rm -rf $$download; exit $$status

build: deps
	$(SWIFT) build -c $(CONFIG)

# Warnings in our own sources fail the build; the full log stays in .build/build.log.
test: test-deps
	@mkdir -p .build
	$(SWIFT) build --build-tests 2>&1 | tee .build/build.log
	@if grep -E '/(Sources|Tests)/.*: warning:' .build/build.log | grep -v '/\.build' ; then \
	  echo "error: the build above has warnings in our sources"; exit 1; fi
	$(MAKE) lint-man lint-format
	$(SWIFT) test --skip-build
	$(MAKE) test-static

# route and mark ship as static executables (release builds; see Package.swift): their process
# tests run again on those binaries, the crash tests with strace killing at each step (no shim
# can be preloaded into a static executable).
STATIC_SUITES = Route(?!Limit)|ScopedSuppression|(Exim|Postfix|Procmail)Pipe|Mark
test-static: test-deps
	$(SWIFT) build -c release --product route
	$(SWIFT) build -c release --product mark
	$(SWIFT) build -c release --product verify
	POSTROOM_STATIC_BIN=$$($(SWIFT) build -c release --show-bin-path) $(SWIFT) test --skip-build --filter '$(STATIC_SUITES)'

# The house style is .swift-format's; 'swift format -i -r Sources Tests Package.swift' applies it.
lint-format:
	$(SWIFT) format lint --strict -r Sources Tests Package.swift

lint-man: test-deps
	mandoc -T lint -W warning $$(find man -type f -name '*.[1-8]')

# BENCHMARKS="route-startup route-list" runs only those of bench/*.sh.
bench: bench-deps build
	bash bench/run $(BENCHMARKS)

# The outgoing path end to end into a local maildir; DEMO_SPOOL=dir to choose where.
demo: build
	bash examples/demo.sh

install: build
	install -d $(DESTDIR)$(LIBEXECDIR) $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man7 $(DESTDIR)$(MANDIR)/man8
	bin=$$($(SWIFT) build -c $(CONFIG) --show-bin-path); \
	install -m 755 $$bin/postroom $(DESTDIR)$(BINDIR)/postroom; \
	for s in $(STAGES); do install -m 755 $$bin/$$s $(DESTDIR)$(LIBEXECDIR)/$$s; done
	for d in 5 7 8; do \
	  for f in man/man$$d/*.$$d; do [ -e "$$f" ] && install -m 644 "$$f" $(DESTDIR)$(MANDIR)/man$$d/; done; \
	done; true

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/postroom
	rm -rf $(DESTDIR)$(LIBEXECDIR)
	cd man && for f in man*/*.[1-8]; do rm -f $(DESTDIR)$(MANDIR)/$$f; done

clean:
	rm -rf .build

# Every stage killed at every step that changes the spool (make test runs a sample).
# Replay one trial: POSTROOM_CRASH_REPLAY=render:17 make crash-test
crash-test: test-deps
	$(SWIFT) build --build-tests
	POSTROOM_CRASH_FULL=1 $(SWIFT) test --skip-build --filter 'CrashHarnessTests|RouteCrashTests|MarkCrashTests|QueueCrashTests|ReleaseCommandTests'
