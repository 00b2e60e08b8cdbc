# mod_zddc_mirror: build with apxs, test under prove, demo on 127.0.0.1.
SHELL     := /bin/bash
APXS      ?= apxs
PROVE     ?= prove
PYTHON    ?= /usr/bin/python3
MODNAME    = zddc_mirror
SRCS       = mod_zddc_mirror.c $(wildcard modules/*.c)
HDRS       = $(wildcard modules/*.h)
WARN       = -Wall -Wextra -Werror -Wno-unused-parameter -Wno-missing-field-initializers
SAN_FLAGS  = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
# Compiler/linker flags added by a packager (debian/rules: dpkg-buildflags).
EXTRA_CFLAGS  ?=
EXTRA_LDFLAGS ?=
ifeq ($(SANITIZE),1)
  XCFLAGS  = $(WARN) -O1 -g $(SAN_FLAGS)
  XLDFLAGS = $(SAN_FLAGS)
  BUILD    = build-san
else ifeq ($(TSAN),1)
  XCFLAGS  = $(WARN) -O1 -g -fsanitize=thread -fno-omit-frame-pointer
  XLDFLAGS = -fsanitize=thread
  BUILD    = build-tsan
else
  XCFLAGS  = $(WARN) -O2 -g $(EXTRA_CFLAGS)
  XLDFLAGS = $(EXTRA_LDFLAGS)
  BUILD    = build
endif
APXS_CFLAGS  = $(foreach f,$(XCFLAGS),-Wc,$(f)) -Imodules
APXS_LDFLAGS = $(foreach f,$(XLDFLAGS),-Wl,$(f)) -lcurl -lssl -lcrypto -lcjson
LIBEXECDIR   = $(shell $(APXS) -q LIBEXECDIR 2>/dev/null)
SYSCONFDIR   = $(shell $(APXS) -q SYSCONFDIR 2>/dev/null)

# The one version string is modules/zddc_version.h (SPEC §9).
VERSION      = $(shell sed -n 's/^\#define ZDDC_VERSION "\(.*\)"$$/\1/p' modules/zddc_version.h)
DEBPKG       = libapache2-mod-zddc-mirror
DEBDIR      ?= $(CURDIR)/build-deb

APR_CFLAGS = $(shell apr-1-config --cflags --cppflags --includes 2>/dev/null)
APR_LIBS   = $(shell apr-1-config --link-ld --libs 2>/dev/null) $(shell apu-1-config --link-ld --libs 2>/dev/null)
UNIT_SRCS  = modules/zddc_cache_status.c modules/zddc_rootcheck.c modules/zddc_util.c modules/zddc_json.c modules/zddc_listing.c modules/zddc_store_disk.c modules/zddc_upstream.c modules/zddc_upstream_curl.c modules/zddc_upstream_ca.c
UNIT_TESTS = $(patsubst t/unit/%.c,$(BUILD)/unit/%,$(wildcard t/unit/*.c))
# httpd's headers, for a unit test that builds module code using its types.
UNIT_HTTPD_CFLAGS = -I$(shell $(APXS) -q INCLUDEDIR 2>/dev/null)

.PHONY: all deps install uninstall deb version test unit demo bench clean fuzz fuzz-build tsan

# The unit tests that run threads, under ThreadSanitizer (build-tsan/).
TSAN_UNITS = store store_threads upstream

# libFuzzer targets (fuzz/fuzz_*.c), one per parser of outside bytes, built
# with ASan+UBSan into build-fuzz/ and run FUZZ_SECONDS each, FUZZ_JOBS at a
# time, from the committed seeds in fuzz/corpus/<target>/.
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_JOBS    ?= 2
FUZZ_SAN     = -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_CFLAGS  = $(WARN) -g -O1 -fno-omit-frame-pointer $(FUZZ_SAN) -Imodules $(APR_CFLAGS)
FUZZ_OBJS    = $(patsubst modules/%.c,build-fuzz/obj/%.o,$(UNIT_SRCS))
FUZZ_TARGETS = $(patsubst fuzz/%.c,build-fuzz/%,$(wildcard fuzz/fuzz_*.c))

all: $(BUILD)/mod_$(MODNAME).so

$(BUILD)/mod_$(MODNAME).so: $(SRCS) $(HDRS)
	@mkdir -p $(BUILD)
	rm -rf $(BUILD)/src && mkdir -p $(BUILD)/src/modules
	cp mod_zddc_mirror.c $(BUILD)/src/ && cp modules/*.c modules/*.h $(BUILD)/src/modules/
	cd $(BUILD)/src && $(APXS) -c -o mod_$(MODNAME).la $(APXS_CFLAGS) $(APXS_LDFLAGS) \
	    mod_zddc_mirror.c $(patsubst %,%,$(wildcard modules/*.c)) >build.log 2>&1 \
	    || { cat build.log; exit 1; }
	cp $(BUILD)/src/.libs/mod_$(MODNAME).so $@.tmp && mv -f $@.tmp $@

$(BUILD)/unit/%: t/unit/%.c t/unit/tap.h $(UNIT_SRCS) $(HDRS)
	@mkdir -p $(BUILD)/unit
	$(CC) $(XCFLAGS) -Imodules -It/unit $(APR_CFLAGS) $(UNIT_HTTPD_CFLAGS) -o $@ $< $(UNIT_SRCS) $(XLDFLAGS) $(APR_LIBS) -lcjson -lcurl -lssl -lcrypto

unit: $(UNIT_TESTS)

tsan: deps
	$(MAKE) unit TSAN=1
	TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$(CURDIR)/t/tsan.supp" \
	    ZDDC_BUILD=$(CURDIR)/build-tsan $(PROVE) $(patsubst %,t/unit_%.t,$(TSAN_UNITS))

build-fuzz/obj/%.o: modules/%.c $(HDRS)
	@mkdir -p build-fuzz/obj
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

build-fuzz/%: fuzz/%.c fuzz/fuzz.h $(FUZZ_OBJS)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_OBJS) \
	    $(APR_LIBS) -lcjson -lcurl -lssl -lcrypto

fuzz-build: $(FUZZ_TARGETS)

.SECONDARY: $(FUZZ_OBJS)

# Each target's new finds go to build-fuzz/corpus/<target>/ (the committed
# seeds stay as they are); the last "#N ... cov: ... exec/s" line of each
# run is kept in build-fuzz/<target>.log.
fuzz: deps
	$(MAKE) fuzz-build
	@printf '%s\n' $(notdir $(FUZZ_TARGETS)) | xargs -P $(FUZZ_JOBS) -I{} \
	    sh -c 'mkdir -p build-fuzz/corpus/{} && build-fuzz/{} \
	        -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
	        -artifact_prefix=build-fuzz/{}- build-fuzz/corpus/{} fuzz/corpus/{} \
	        >build-fuzz/{}.log 2>&1 \
	        && echo "{}: $$(grep -E "^#[0-9]+" build-fuzz/{}.log | tail -1)" \
	        || { tail -60 build-fuzz/{}.log; echo "{}: FAILED"; exit 255; }'

deps:
	@sh t/lib/install-deps.sh

# make install / make uninstall: the package's layout without a package
# (SPEC §9). An existing mods-available/zddc_mirror.conf that differs from
# ours is the administrator's: it is kept, ours goes beside it as
# zddc_mirror.conf.dist. uninstall removes what install put, keeps an edited
# .conf, and refuses while the module is enabled (a2dismod first).
MODAVAIL = $(DESTDIR)$(SYSCONFDIR)/mods-available
MODCONF  = $(MODAVAIL)/$(MODNAME).conf

install: $(BUILD)/mod_$(MODNAME).so
	install -d -m 755 $(DESTDIR)$(LIBEXECDIR) $(MODAVAIL)
	install -m 644 $(BUILD)/mod_$(MODNAME).so $(DESTDIR)$(LIBEXECDIR)/mod_$(MODNAME).so
	sed 's|/usr/lib/apache2/modules/|$(LIBEXECDIR)/|' conf/$(MODNAME).load >$(MODAVAIL)/$(MODNAME).load.tmp
	chmod 644 $(MODAVAIL)/$(MODNAME).load.tmp && mv -f $(MODAVAIL)/$(MODNAME).load.tmp $(MODAVAIL)/$(MODNAME).load
	@if [ -e $(MODCONF) ] && ! cmp -s conf/$(MODNAME).conf $(MODCONF); then \
	    install -m 644 conf/$(MODNAME).conf $(MODCONF).dist; \
	    echo "install: kept your edited $(MODCONF); the new one is $(MODCONF).dist"; \
	else \
	    install -m 644 conf/$(MODNAME).conf $(MODCONF) && rm -f $(MODCONF).dist; \
	fi

uninstall:
	@if [ -e $(DESTDIR)$(SYSCONFDIR)/mods-enabled/$(MODNAME).load ]; then \
	    echo "uninstall: $(MODNAME) is enabled; run a2dismod $(MODNAME) and reload Apache first" >&2; \
	    exit 1; \
	fi
	rm -f $(DESTDIR)$(LIBEXECDIR)/mod_$(MODNAME).so $(MODAVAIL)/$(MODNAME).load $(MODCONF).dist
	@if cmp -s conf/$(MODNAME).conf $(MODCONF); then \
	    rm -f $(MODCONF); \
	elif [ -e $(MODCONF) ]; then \
	    echo "uninstall: kept your edited $(MODCONF)"; \
	fi

version:
	@echo $(VERSION)

# make deb: builds $(DEBPKG)_$(VERSION)_<arch>.deb into $(DEBDIR) from a copy
# of this tree (nothing is written here); the build dependencies of
# debian/control are installed first if missing.
DEBSRC = $(DEBDIR)/src/$(DEBPKG)-$(VERSION)
deb: deps
	@v=$$(dpkg-parsechangelog -l debian/changelog -S Version); \
	if [ "$$v" != "$(VERSION)" ]; then \
	    echo "deb: debian/changelog is at $$v, modules/zddc_version.h at $(VERSION)" >&2; \
	    exit 1; \
	fi
	rm -rf $(DEBDIR)/src && mkdir -p $(DEBSRC)
	tar -C $(CURDIR) --exclude=./build --exclude='./build-*' \
	    --exclude=./.git --exclude=__pycache__ -cf - . | tar -C $(DEBSRC) -xf -
	cd $(DEBSRC) && { dpkg-checkbuilddeps 2>/dev/null \
	    || $$( [ "$$(id -u)" -eq 0 ] || echo sudo ) env DEBIAN_FRONTEND=noninteractive \
	        apt-get build-dep -y --no-install-recommends ./; }
	cd $(DEBSRC) && dpkg-buildpackage -b --no-sign >$(DEBDIR)/build.log 2>&1 \
	    || { tail -40 $(DEBDIR)/build.log; exit 1; }
	mv -f $(DEBDIR)/src/$(DEBPKG)_$(VERSION)_*.deb $(DEBDIR)/
	rm -rf $(DEBDIR)/src
	@ls $(DEBDIR)/$(DEBPKG)_$(VERSION)_*.deb

# The suite runs over http, then (not under SANITIZE) every integration
# test again with the fake master serving https (ZDDC_TEST_SCHEME).
test: deps
	$(MAKE) all unit SANITIZE=$(SANITIZE)
	ZDDC_BUILD=$(CURDIR)/$(BUILD) ZDDC_SANITIZE=$(SANITIZE) $(PROVE) -j2 t/*.t
ifneq ($(SANITIZE),1)
	ZDDC_BUILD=$(CURDIR)/$(BUILD) ZDDC_TEST_SCHEME=https $(PROVE) -j2 \
	    $(filter-out t/unit_%.t,$(wildcard t/*.t))
endif

demo: deps
	$(MAKE) all
	$(PYTHON) t/lib/demo.py --module $(CURDIR)/build/mod_$(MODNAME).so

clean:
	rm -rf build build-san build-deb build-fuzz build-tsan

bench: deps bench-deps
	$(MAKE) all
	$(PYTHON) bench/run.py --module $(CURDIR)/build/mod_$(MODNAME).so
	$(PYTHON) bench/wan.py --module $(CURDIR)/build/mod_$(MODNAME).so

# The peers and load tools of make bench (wrk, wget2, rclone, nginx).
.PHONY: bench-deps bench-wan
bench-deps:
	@sh bench/install-deps.sh

# Only the WAN and remote-site rows (bench/wan.py -> bench/results-wan.md).
bench-wan: deps bench-deps
	$(MAKE) all
	$(PYTHON) bench/wan.py --module $(CURDIR)/build/mod_$(MODNAME).so
